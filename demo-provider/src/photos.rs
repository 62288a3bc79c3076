//! The demo users and their photos. Each photo is a landscape drawn as SVG from a few colours,
//! so the demo needs no image files and no network.

/// A demo user, picked on the consent page.
#[derive(Debug)]
pub struct DemoUser {
    pub id: &'static str,
    pub name: &'static str,
    pub photos: &'static [DemoPhoto],
}

/// A photo: an id, a title and the colours of its scene.
#[derive(Debug)]
pub struct DemoPhoto {
    pub id: &'static str,
    pub title: &'static str,
    /// Sky from top to horizon.
    pub sky: [&'static str; 2],
    /// Sun or moon colour and its position/size on a 400×300 canvas.
    pub sun: (&'static str, u16, u16, u16),
    /// Three ridges, far to near.
    pub ridges: [&'static str; 3],
    /// A lake in the foreground.
    pub water: Option<&'static str>,
    pub stars: bool,
}

const fn photo(
    id: &'static str,
    title: &'static str,
    sky: [&'static str; 2],
    sun: (&'static str, u16, u16, u16),
    ridges: [&'static str; 3],
    water: Option<&'static str>,
    stars: bool,
) -> DemoPhoto {
    DemoPhoto {
        id,
        title,
        sky,
        sun,
        ridges,
        water,
        stars,
    }
}

pub const USERS: &[DemoUser] = &[
    DemoUser {
        id: "alice",
        name: "Alice",
        photos: &[
            photo(
                "alice-1",
                "Sunrise over the Dolomites",
                ["#ff9a76", "#ffe3b3"],
                ("#fff4d6", 300, 95, 34),
                ["#b07c9e", "#6d4c7d", "#3b2a4f"],
                None,
                false,
            ),
            photo(
                "alice-2",
                "Glacier lake at noon",
                ["#5fa8ff", "#cfe8ff"],
                ("#fffbe0", 80, 60, 26),
                ["#9bb7d4", "#5f7f9e", "#2f4a63"],
                Some("#4d8fc9"),
                false,
            ),
            photo(
                "alice-3",
                "Evening in the valley",
                ["#3a2f6b", "#f08a5d"],
                ("#ffd3a5", 210, 150, 40),
                ["#7a4e7e", "#4a3060", "#241a3a"],
                None,
                false,
            ),
        ],
    },
    DemoUser {
        id: "bob",
        name: "Bob",
        photos: &[
            photo(
                "bob-1",
                "Northern lights",
                ["#06131f", "#0f5e5a"],
                ("#e6fff6", 320, 70, 16),
                ["#1c3b45", "#12262e", "#070f14"],
                Some("#0c3b3f"),
                true,
            ),
            photo(
                "bob-2",
                "Desert dunes",
                ["#f6c28b", "#fde6c4"],
                ("#fff1c9", 110, 80, 30),
                ["#e3a35b", "#c98240", "#9c5d2a"],
                None,
                false,
            ),
            photo(
                "bob-3",
                "Moonrise at the coast",
                ["#0b1d3a", "#36507d"],
                ("#f4f1de", 260, 90, 24),
                ["#2c3e66", "#1c2a4a", "#0e1628"],
                Some("#1f3a66"),
                true,
            ),
            photo(
                "bob-4",
                "Autumn forest",
                ["#f7b267", "#fde4c3"],
                ("#fff0d1", 90, 110, 28),
                ["#c8553d", "#8c3b2a", "#4b2018"],
                None,
                false,
            ),
        ],
    },
    DemoUser {
        id: "carol",
        name: "Carol",
        photos: &[
            photo(
                "carol-1",
                "Misty pine hills",
                ["#a8c0c0", "#e9f1ef"],
                ("#ffffff", 280, 80, 22),
                ["#7d9a95", "#4f6e68", "#2b433f"],
                Some("#86a8a3"),
                false,
            ),
            photo(
                "carol-2",
                "Pink hour on the lake",
                ["#ff7eb3", "#ffd1dc"],
                ("#fff0f5", 200, 130, 36),
                ["#b5588a", "#7a3a67", "#3f1f3b"],
                Some("#d46a9b"),
                false,
            ),
        ],
    },
];

/// The user with this id.
pub fn user(id: &str) -> Option<&'static DemoUser> {
    USERS.iter().find(|u| u.id == id)
}

/// The photo with this id.
pub fn find(id: &str) -> Option<&'static DemoPhoto> {
    USERS
        .iter()
        .flat_map(|u| u.photos.iter())
        .find(|p| p.id == id)
}

/// Draws the photo as a 400×300 SVG: a sky gradient, a sun, three ridges, maybe stars and a lake.
pub fn svg(photo: &DemoPhoto) -> String {
    use std::f64::consts::TAU;

    let mut seed = photo.id.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    let mut next = move || {
        seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
        f64::from(seed >> 8) / f64::from(1u32 << 24)
    };
    let mut out = String::with_capacity(4096);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">"#);
    out.push_str(&format!(
        r#"<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{}"/><stop offset="1" stop-color="{}"/></linearGradient></defs><rect width="400" height="300" fill="url(#sky)"/>"#,
        photo.sky[0], photo.sky[1]
    ));
    if photo.stars {
        for _ in 0..40 {
            let (x, y, r) = (next() * 400.0, next() * 150.0, 0.4 + next() * 1.1);
            out.push_str(&format!(
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="white" opacity="0.8"/>"#
            ));
        }
    }
    let (color, x, y, r) = photo.sun;
    out.push_str(&format!(
        r#"<circle cx="{x}" cy="{y}" r="{}" fill="{color}" opacity="0.25"/>"#,
        r + 14
    ));
    out.push_str(&format!(
        r#"<circle cx="{x}" cy="{y}" r="{r}" fill="{color}"/>"#
    ));
    for (i, ridge) in photo.ridges.iter().enumerate() {
        let base = 150.0 + 45.0 * i as f64;
        let (a1, a2) = (28.0 - 6.0 * i as f64, 12.0);
        let (f1, f2) = (0.008 + next() * 0.01, 0.03 + next() * 0.02);
        let (p1, p2) = (next() * TAU, next() * TAU);
        let mut path = String::from("M0 300");
        for step in 0..=40 {
            let px = f64::from(step) * 10.0;
            let py = base + a1 * (px * f1 + p1).sin() + a2 * (px * f2 + p2).sin();
            path.push_str(&format!(" L{px:.0} {py:.1}"));
        }
        path.push_str(" L400 300 Z");
        out.push_str(&format!(r#"<path d="{path}" fill="{ridge}"/>"#));
    }
    if let Some(water) = photo.water {
        out.push_str(&format!(
            r#"<rect y="250" width="400" height="50" fill="{water}" opacity="0.9"/>"#
        ));
        for i in 0..6 {
            let (wx, wy) = (20.0 + next() * 340.0, 258.0 + f64::from(i) * 7.0);
            out.push_str(&format!(
                r#"<rect x="{wx:.0}" y="{wy:.0}" width="{:.0}" height="1.5" fill="white" opacity="0.35"/>"#,
                20.0 + next() * 40.0
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_photo_renders_a_sized_svg_and_ids_are_unique() {
        let mut ids = std::collections::HashSet::new();
        for user in super::USERS {
            assert!(!user.photos.is_empty());
            for photo in user.photos {
                assert!(ids.insert(photo.id), "duplicate id {}", photo.id);
                let svg = super::svg(photo);
                assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
                assert!(
                    svg.contains(r#"width="400" height="300""#),
                    "a natural size, so <img> has naturalWidth"
                );
            }
        }
    }
}
