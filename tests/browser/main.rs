//! Browser tests: headless Chromium (Debian's `chromium` + `chromedriver`) drives the app and its
//! demo provider end to end, exactly as a person would. One test binary; see `driver.rs` for how
//! the browser is started, skipped (no Chromium) or required (`CI=true`).
//!
//! The app runs on `http://localhost:PORT` and the provider on `http://127.0.0.1:PORT2`: two
//! different sites, so cookies behave as they do with a real provider.
//! Screenshots land in `target/screenshots/` (or `SCREENSHOT_DIR`): the README's (`readme.rs`:
//! `home`, `consent`, `consent-phone`, `photos`, `photos-phone-dark`, `error`) and one of every
//! audited page (`accessibility.rs`) per scheme and size, `<page>-<light|dark>[-phone].png`.

mod accessibility;
mod break_it;
mod driver;
mod framing;
mod helpers;
mod readme;
mod same_site;
mod sign_in;
