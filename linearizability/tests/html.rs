//! The HTML page of an explanation.

use linearizability::kv::{KvInput, KvModel, KvOutput};
use linearizability::{Budget, Operation, Verdict, check_verbose, render_html, write_html};

fn op(
    client: usize,
    input: KvInput,
    value: &str,
    call: u64,
    ret: u64,
) -> Operation<KvInput, KvOutput> {
    Operation {
        client,
        input,
        output: KvOutput {
            value: value.into(),
        },
        call,
        ret,
    }
}

#[test]
fn an_illegal_history_renders_as_a_self_contained_page() {
    let nasty = "</script><b>bold</b>";
    let history = [
        op(
            0,
            KvInput::Put {
                key: "good".into(),
                value: "1".into(),
            },
            "",
            0,
            10,
        ),
        op(1, KvInput::Get { key: "good".into() }, "1", 20, 30),
        op(
            0,
            KvInput::Put {
                key: "bad".into(),
                value: nasty.into(),
            },
            "",
            0,
            10,
        ),
        op(1, KvInput::Get { key: "bad".into() }, "", 20, 30),
    ];
    let (verdict, explanation) = check_verbose(&KvModel, &history, Budget::Steps(10_000));
    assert_eq!(verdict, Verdict::Illegal);

    let dir = std::env::temp_dir().join(format!("linearizability-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join("history.html");
    write_html(&KvModel, &history, &explanation, &path).expect("page written");
    let page = std::fs::read_to_string(&path).expect("page read back");
    std::fs::remove_dir_all(&dir).expect("temporary directory removed");
    assert_eq!(page, render_html(&KvModel, &history, &explanation));

    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("History not linearizable"));
    // The script draws lanes, boxes and the failing box with these classes.
    for class in ["\"lane\"", "\"op\"", "\" illegal\"", "\"partition \""] {
        assert!(page.contains(class), "the script uses the class {class}");
    }
    // The data names the illegal partition and its blocked operation (history index 3).
    assert!(page.contains(r#""verdict":"Illegal","ops":[2,3]"#));
    assert!(page.contains(r#""blocked":3"#));
    // The value is there, escaped: the only `</script>` closes the two script elements.
    assert!(page.contains(r"\u003c/script\u003e\u003cb\u003ebold\u003c/b\u003e"));
    assert_eq!(page.matches("</script>").count(), 2);
    assert!(!page.contains("<b>"));
    // Self-contained: nothing loaded from elsewhere.
    for outside in ["src=", "href=", "http://", "https://", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "the page refers to something outside: {outside}"
        );
    }
}

#[test]
fn a_large_history_makes_a_compact_page() {
    // 10 000 operations on 5 keys, with values growing long.
    let mut history = Vec::new();
    let mut values = vec![String::new(); 5];
    for i in 0..10_000u64 {
        let key = (i % 5) as usize;
        let client = (i % 50) as usize;
        if i % 2 == 0 {
            let token = format!("[{i}]");
            values[key].push_str(&token);
            history.push(op(
                client,
                KvInput::Append {
                    key: format!("k{key}"),
                    value: token,
                },
                "",
                10 * i,
                10 * i + 5,
            ));
        } else {
            history.push(op(
                client,
                KvInput::Get {
                    key: format!("k{key}"),
                },
                &values[key],
                10 * i,
                10 * i + 5,
            ));
        }
    }
    let (verdict, explanation) = check_verbose(&KvModel, &history, Budget::Steps(1_000_000));
    assert_eq!(verdict, Verdict::Ok);
    let page = render_html(&KvModel, &history, &explanation);
    assert!(page.len() < 4_000_000, "page of {} bytes", page.len());
}
