//! The hooks in the routes where a wing records a sign-in's steps and keeps them; [`off`] runs
//! each one as nothing, which compiles to nothing. The routes call the same hooks either way.
//! The flow inspector's wing (the `inspector` cargo feature, on by default) records through them // INSPECTOR
//! and serves `/flow`; without the feature the `inspector` module is not built at all. // INSPECTOR

#[cfg(feature = "inspector")] // INSPECTOR
mod on; // INSPECTOR
#[cfg(feature = "inspector")] // INSPECTOR
mod page; // INSPECTOR
#[cfg(feature = "inspector")] // INSPECTOR
pub use on::*; // INSPECTOR

#[cfg(not(feature = "inspector"))] // INSPECTOR
mod off;
#[cfg(not(feature = "inspector"))] // INSPECTOR
pub use off::*;
