//! Renders a [`Recording`] as one self-contained HTML page: inline style and script, no
//! network access, the [`model`] embedded as JSON and drawn as SVG by the
//! script, with zoom and pan.
//!
//! How to read the page: one lane per server, time running left to right. In a lane, the
//! wide band shows the server's terms (alternating shades, the leader's terms in strong
//! blue), the thin strip below it its role, and the ticks at the bottom its annotations,
//! coloured by topic. A Lab 4 group server's lane has one more strip, between its role and
//! its ticks: its shards, one span per state its state machine reported, labelled like
//! `c4 · 0 1 2 · ⇣3 4` (configuration 4 applied, shards 0 1 2 served, the data of shards 3
//! and 4 awaited), in two shades alternating with the configuration's number, amber while
//! it waits for data. Dark hatching means the server was down; a tinted background means
//! the network was partitioned, one tint per group (red hatching: cut off alone). Above
//! the lanes, the tester's row shows its phases (dashed lines), its checks and the
//! network's settings; below them, one row per client with its operations. Hover over
//! anything for details; zoom with the wheel, pan by dragging.

use std::path::Path;

use crate::event::Recording;
use crate::model;

/// The page's style sheet.
const STYLE: &str = include_str!("html/page.css");
/// The page's script: reads the embedded model and draws it.
const SCRIPT: &str = include_str!("html/page.js");

/// Writes the page of [`render`] to `path`, creating its parent directories.
pub fn write(rec: &Recording, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, render(rec))
}

/// The timeline of `rec` as a self-contained HTML page (see the [module docs](self)).
pub fn render(rec: &Recording) -> String {
    let model = model::build(rec);
    let json = serde_json::to_string(&model).expect("the model serializes to JSON");
    let data = script_safe(&json);
    let title = if rec.test.is_empty() {
        "Timeline".to_owned()
    } else {
        format!("Timeline: {}", escape_html(&rec.test))
    };
    let mut page = String::with_capacity(data.len() + STYLE.len() + SCRIPT.len() + 2048);
    page.push_str(&format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
{STYLE}</style>
</head>
<body>
<header>
<h1 id="title"></h1>
<div id="verdict"></div>
<div id="meta"></div>
</header>
<div id="toolbar">
<button id="fit" title="show the whole run (key 0)">fit</button>
<button id="zoom-in" title="zoom in (key +)">+</button>
<button id="zoom-out" title="zoom out (key -)">−</button>
<label id="messages-toggle"><input type="checkbox" id="show-messages"> messages</label>
<span id="range"></span>
<span id="note"></span>
</div>
<div id="legend"></div>
<div id="chart-box"><svg id="chart"></svg></div>
<div id="help">Wheel: zoom around the cursor. Drag: pan. Keys: + − 0. Hover over anything for details.</div>
<div id="tip" hidden></div>
<div id="error"></div>
<script type="application/json" id="data">"#
    ));
    page.push_str(&data);
    page.push_str("</script>\n<script>\n");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

/// `json` with `<`, `>` and `&` written as JSON escapes, which mean the same characters
/// to the JSON parser but cannot end the `<script>` element holding it. They only occur
/// inside JSON strings, where the escapes are valid.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            _ => out.push(c),
        }
    }
    out
}

/// `text` safe inside HTML text.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Kind};

    fn sample() -> Recording {
        let ms = 1_000_000;
        let mut events = vec![
            Event {
                at: 0,
                node: 1,
                kind: Kind::Start,
            },
            Event {
                at: 0,
                node: 2,
                kind: Kind::Start,
            },
            Event {
                at: ms,
                node: 0,
                kind: Kind::Phase {
                    text: "</script><script>alert(1)</script>".into(),
                },
            },
            Event {
                at: 2 * ms,
                node: 1,
                kind: Kind::Annotation {
                    topic: "vote".into(),
                    text: "a < b && c > d".into(),
                },
            },
            Event {
                at: 3 * ms,
                node: 2,
                kind: Kind::Crash,
            },
        ];
        events.push(Event {
            at: 4 * ms,
            node: 0,
            kind: Kind::Link {
                text: "history".into(),
                path: "/tmp/history.html".into(),
            },
        });
        Recording {
            test: "TestInitialElection<3A>".into(),
            seed: 42,
            nodes: vec!["tester".into(), "S0".into(), "S1".into()],
            events,
            end: 10 * ms,
            failure: Some("expected one leader".into()),
            ..Recording::default()
        }
    }

    /// The embedded JSON, as the page's script reads it.
    fn data(page: &str) -> serde_json::Value {
        let open = r#"<script type="application/json" id="data">"#;
        let start = page.find(open).expect("the data element") + open.len();
        let len = page[start..].find("</script>").expect("its end");
        serde_json::from_str(&page[start..start + len]).expect("valid JSON")
    }

    #[test]
    fn the_page_holds_the_data_and_the_script() {
        let page = render(&sample());
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(SCRIPT) && page.contains(STYLE));
        assert!(page.contains(r#"id="error""#) && page.contains(r#"id="tip""#));
        let data = data(&page);
        assert_eq!(data["test"], "TestInitialElection<3A>");
        assert_eq!(data["seed"], "42");
        assert_eq!(data["failure"], "expected one leader");
        assert_eq!(data["lanes"][0]["name"], "S0");
        assert_eq!(
            data["lanes"][1]["down"],
            serde_json::json!([[3000, 10000, 0]])
        );
        assert_eq!(
            data["links"],
            serde_json::json!([["history", "/tmp/history.html"]])
        );
        // The title is escaped HTML.
        assert!(page.contains("<title>Timeline: TestInitialElection&lt;3A&gt;</title>"));
    }

    #[test]
    fn texts_cannot_end_the_data_element() {
        let page = render(&sample());
        // Exactly the data's and the script's closing tags, and no injected script.
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("a < b && c > d"));
        let data = data(&page);
        assert_eq!(
            data["tester"]["phases"][0][1],
            "</script><script>alert(1)</script>"
        );
        assert_eq!(data["lanes"][0]["marks"]["x"][0], "a < b && c > d");
    }

    #[test]
    fn the_page_uses_no_network() {
        let page = render(&sample());
        assert!(!page.contains("http://"), "an http reference");
        assert!(!page.contains("https://"), "an https reference");
        assert!(!page.contains("@import") && !page.contains("url(http"));
        // Links to local files are made by the script, as file:// URLs.
        assert!(SCRIPT.contains("file://"));
    }

    #[test]
    fn an_empty_recording_renders() {
        let page = render(&Recording::default());
        assert!(page.contains("<title>Timeline</title>"));
        let data = data(&page);
        assert_eq!(data["lanes"], serde_json::json!([]));
        assert_eq!(data["end"], 0);
        assert_eq!(data["failure"], serde_json::Value::Null);
    }

    #[test]
    fn write_creates_directories() {
        let dir = std::env::temp_dir().join(format!("timeline-html-{}", std::process::id()));
        let path = dir.join("a/b/page.html");
        write(&sample(), &path).unwrap();
        let page = std::fs::read_to_string(&path).unwrap();
        assert_eq!(page, render(&sample()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
