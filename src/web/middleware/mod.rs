//! The middleware around the routes, outermost first in `startup`: the security headers, the
//! per-session lock, the set-up check; and the per-client sign-in limit the home page applies.

pub mod headers;
pub mod lock;
pub mod rate_limit;
pub mod setup_check;
