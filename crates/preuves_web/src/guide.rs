//! The user guide (`docs/guide/*.md`) and its screenshots, embedded at compile time and
//! rendered once to HTML (pulldown-cmark); `routes::guide` serves them at `/aide`, `/aide/{page}`
//! and `/aide/captures/{name}.png`.
//!
//! Links between the guide's files and to `../screenshots/` are rewritten to the platform's
//! addresses, raw HTML is shown as text (never passed through), and only web, mail and local links
//! are kept. The screenshots are embedded by `build.rs`: a screenshot missing at build time is
//! absent here (its address answers 404).

use std::sync::OnceLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

mod captures {
    include!(concat!(env!("OUT_DIR"), "/guide_captures.rs"));
}

/// One file of the guide.
struct Source {
    /// Its address under `/aide/` (empty for the index).
    slug: &'static str,
    /// Its file name in `docs/guide/`, as the other files link to it.
    file: &'static str,
    /// Its markdown.
    markdown: &'static str,
}

/// Every file of the guide, the index first.
const SOURCES: [Source; 5] = [
    Source {
        slug: "",
        file: "README.md",
        markdown: include_str!("../../../docs/guide/README.md"),
    },
    Source {
        slug: "editeur",
        file: "editeur.md",
        markdown: include_str!("../../../docs/guide/editeur.md"),
    },
    Source {
        slug: "instructeur",
        file: "instructeur.md",
        markdown: include_str!("../../../docs/guide/instructeur.md"),
    },
    Source {
        slug: "administrateur",
        file: "administrateur.md",
        markdown: include_str!("../../../docs/guide/administrateur.md"),
    },
    Source {
        slug: "regles",
        file: "regles.md",
        markdown: include_str!("../../../docs/guide/regles.md"),
    },
];

/// A guide file rendered to HTML.
pub(crate) struct Rendered {
    /// Its address under `/aide/` (empty for the index).
    pub(crate) slug: &'static str,
    /// The text of its first level-1 heading.
    pub(crate) title: String,
    /// Its body, safe to insert in a page (raw HTML of the markdown shown as text).
    pub(crate) html: String,
}

/// The rendered guide file at `slug` under `/aide/` (empty for the index), if there is one.
pub(crate) fn page(slug: &str) -> Option<&'static Rendered> {
    rendered().iter().find(|p| p.slug == slug)
}

/// The guide, rendered on first use.
fn rendered() -> &'static [Rendered] {
    static PAGES: OnceLock<Vec<Rendered>> = OnceLock::new();
    PAGES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|s| {
                let (title, html) = to_html(s.markdown);
                Rendered {
                    slug: s.slug,
                    title,
                    html,
                }
            })
            .collect()
    })
}

/// A screenshot embedded at build time, by name (without `.png`).
pub(crate) fn capture_bytes(name: &str) -> Option<&'static [u8]> {
    captures::CAPTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

/// Renders a guide file: its title (first level-1 heading) and its HTML.
fn to_html(markdown: &str) -> (String, String) {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut title = String::new();
    // A heading's or an image's events, gathered until its end.
    let mut heading: Option<(HeadingLevel, Vec<Event<'_>>)> = None;
    let mut image: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, options) {
        let event = match event {
            // Raw HTML is shown as text, never passed through.
            Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(rewrite_link(&dest_url)),
                title,
                id,
            }),
            other => other,
        };
        // An image becomes one `<img>`; its alternative text is the text of its events.
        if let Some((src, alt)) = &mut image {
            match event {
                Event::End(TagEnd::Image) => {
                    let img = Event::InlineHtml(CowStr::from(image_html(src, alt)));
                    image = None;
                    match &mut heading {
                        Some((_, inner)) => inner.push(img),
                        None => events.push(img),
                    }
                }
                Event::Text(t) | Event::Code(t) => alt.push_str(&t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                image = Some((rewrite_link(&dest_url), String::new()));
            }
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, Vec::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, inner)) = heading.take() {
                    let text = plain_text(&inner);
                    if level == HeadingLevel::H1 && title.is_empty() {
                        title = text.clone();
                    }
                    events.push(Event::Start(Tag::Heading {
                        level,
                        id: Some(CowStr::from(slugify(&text))),
                        classes: Vec::new(),
                        attrs: Vec::new(),
                    }));
                    events.extend(inner);
                    events.push(Event::End(TagEnd::Heading(level)));
                }
            }
            other => match &mut heading {
                Some((_, inner)) => inner.push(other),
                None => events.push(other),
            },
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    if title.is_empty() {
        title = "Guide d'utilisation".to_owned();
    }
    (title, html)
}

/// The text of a heading's events.
fn plain_text(events: &[Event<'_>]) -> String {
    let mut out = String::new();
    for e in events {
        if let Event::Text(t) | Event::Code(t) = e {
            out.push_str(t);
        }
    }
    out
}

/// A heading's anchor: lowercase letters and digits (accents kept), words joined by dashes.
fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if (c.is_whitespace() || c == '-') && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// The platform's address for a link of the guide: `../screenshots/x.png` becomes
/// `/aide/captures/x.png`, `editeur.md` `/aide/editeur`, `README.md` `/aide` (fragments kept).
/// Web, mail, absolute and in-page links pass; any other scheme becomes `#`.
fn rewrite_link(dest: &str) -> String {
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (dest, String::new()),
    };
    if let Some(file) = path.strip_prefix("../screenshots/") {
        return format!("/aide/captures/{file}{fragment}");
    }
    if let Some(source) = SOURCES.iter().find(|s| s.file == path) {
        return if source.slug.is_empty() {
            format!("/aide{fragment}")
        } else {
            format!("/aide/{}{fragment}", source.slug)
        };
    }
    let scheme = path
        .split_once(':')
        .filter(|(before, _)| !before.contains('/'))
        .map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http" | "https" | "mailto") => dest.to_owned(),
        Some(_) => "#".to_owned(),
    }
}

/// A screenshot as an `<img>`, with its size when the file is embedded (no layout shift).
fn image_html(src: &str, alt: &str) -> String {
    let size = src
        .strip_prefix("/aide/captures/")
        .and_then(|f| f.strip_suffix(".png"))
        .and_then(capture_bytes)
        .and_then(png_size)
        .map(|(w, h)| format!(" width=\"{w}\" height=\"{h}\""))
        .unwrap_or_default();
    format!(
        "<img class=\"capture\" src=\"{}\" alt=\"{}\" loading=\"lazy\"{size}>",
        escape_attribute(src),
        escape_attribute(alt)
    )
}

/// Width and height from a PNG's header.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..8)? != b"\x89PNG\r\n\x1a\n" || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
    let height = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
    Some((width, height))
}

fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rewritten_to_the_platform() {
        assert_eq!(rewrite_link("editeur.md"), "/aide/editeur");
        assert_eq!(rewrite_link("README.md"), "/aide");
        assert_eq!(rewrite_link("README.md#roles"), "/aide#roles");
        assert_eq!(
            rewrite_link("../screenshots/plan.png"),
            "/aide/captures/plan.png"
        );
        assert_eq!(rewrite_link("https://example.fr/x"), "https://example.fr/x");
        assert_eq!(rewrite_link("/registre"), "/registre");
        assert_eq!(rewrite_link("javascript:alert(1)"), "#");
        assert_eq!(rewrite_link("JavaScript:alert(1)"), "#");
    }

    #[test]
    fn raw_html_is_text_and_headings_get_anchors() {
        let (title, html) = to_html(
            "# Titre du guide\n\n<script>alert(1)</script>\n\nUn <b>gras</b> et ![Une « vue »](../screenshots/x.png).\n\n## Déposer les preuves\n",
        );
        assert_eq!(title, "Titre du guide");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            html.contains(r#"<img class="capture" src="/aide/captures/x.png" alt="Une « vue »""#),
            "{html}"
        );
        assert!(html.contains(r#"<h2 id="déposer-les-preuves">"#), "{html}");
    }
}
