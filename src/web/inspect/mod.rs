//! The flow inspector's hooks in the routes: where a sign-in's steps are recorded and kept, and
//! the `/flow` page. A wing: with the `inspector` cargo feature (on by default) they record;
//! without it ([`off`]) each hook does nothing and compiles to nothing, and the `inspector`
//! module is not built at all. The routes call the same hooks either way.

#[cfg(feature = "inspector")]
mod on;
#[cfg(feature = "inspector")]
mod page;
#[cfg(feature = "inspector")]
pub use on::*;

#[cfg(not(feature = "inspector"))]
mod off;
#[cfg(not(feature = "inspector"))]
pub use off::*;
