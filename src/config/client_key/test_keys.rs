//! Keys for tests only, made with `openssl` for them and used nowhere else: one P-256 key in
//! both PEM encodings the app reads, its thumbprint, and a key it must refuse.

/// A P-256 key in SEC1 PEM (`openssl ecparam -name prime256v1 -genkey -noout`).
pub const SEC1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIEEHDbyuM+vRt8Us3vnLFlevXMMY8lrYre7bavNKdaPzoAoGCCqGSM49
AwEHoUQDQgAERvnCun6GshULqth/IPZ5K8WEK6rOo5qA2NvbCBi0cdiexlk7BZHC
SiL3sG8Wc55qaTW/GupKQuT1YpIjwlcWTw==
-----END EC PRIVATE KEY-----
";

/// [`SEC1_PEM`]'s key in PKCS#8 (`openssl pkcs8 -topk8 -nocrypt`).
pub const PKCS8_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQQcNvK4z69G3xSze
+csWV69cwxjyWtit7ttq80p1o/OhRANCAARG+cK6foayFQuq2H8g9nkrxYQrqs6j
moDY29sIGLRx2J7GWTsFkcJKIvewbxZznmppNb8a6kpC5PVikiPCVxZP
-----END PRIVATE KEY-----
";

/// The key's RFC 7638 thumbprint, computed independently with Python's `cryptography` (the
/// public numbers, base64url, the required members sorted without spaces, SHA-256).
pub const KID: &str = "j5QVryTP8_klqm0TbbJM7Kh-JxvkZrEJDjMtYB2yxm4";

/// A P-384 key in PKCS#8: well-formed, but not a curve the app signs with.
pub const P384_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDATLsU3pSdarSpcvE9Y
vtcq46jgmO9RYuntEagrqXNbBv1ucNdei1MSqFUOTz+8gtyhZANiAAQCijQcqxaM
Gd7AWSZ5fQSm3FQxCm+3oZ4k+eV59YL8OsiHzB2Mgb6iQkR1EHe3FjigyLzQ47I1
zYI7HuvJeldh3QINP+jpEHB1nPIUsyZw60XS9W5fKnlLFzz1PG/wegU=
-----END PRIVATE KEY-----
";

/// Writes `text` to a fresh file in the temporary directory; returns its path.
pub fn key_file(text: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "photo-connect-key-{}.pem",
        crate::random::random_token()
    ));
    std::fs::write(&path, text).expect("a temporary key file");
    path.to_string_lossy().into_owned()
}
