//! The new text of a reply: what the person wrote above the quoted email, without the quote, the
//! client's attribution line, an Outlook header block or a signature.
//!
//! Mail clients quote in their own ways, and in the writer's language:
//! - Gmail: `On Mon, 1 Dec 2026 at 10.00, Kari <k@x> wrote:`, `ma 1.12.2026 klo 10.00 Kari
//!   <k@x> kirjoitti:`, `Den mån 1 dec. 2026 kl 10:00 skrev Kari <k@x>:` (the line may wrap),
//!   then `>` lines; in HTML a `gmail_quote` block.
//! - Outlook: `-----Original Message-----` (`-----Alkuperäinen viesti-----`, `-----Ursprungligt
//!   meddelande-----`), or a line of underscores, or a `From:`/`Lähettäjä:`/`Från:` block with
//!   `Sent:`/`Lähetetty:`/`Skickat:`; in HTML `divRplyFwdMsg` / `appendonsend`.
//! - Apple Mail: `On 1 Dec 2026, at 10.00, Kari <k@x> wrote:`, `1.12.2026 kello 10.00 Kari
//!   <k@x> kirjoitti:`, `1 dec. 2026 kl. 10:00 skrev Kari <k@x>:`; in HTML
//!   `<blockquote type="cite">`.
//! - Thunderbird: `On 01/12/2026 10.00, Kari wrote:`, `Kari kirjoitti 1.12.2026 klo 10.00:`,
//!   `Den 2026-12-01 kl. 10:00, skrev Kari:`; in HTML `moz-cite-prefix`.
//!
//! Signatures start at `-- ` or at a phone's "Sent from my iPhone" line.

/// Markers in an HTML body where the quoted email begins.
const HTML_QUOTE_MARKERS: [&str; 7] = [
    "class=\"gmail_quote",
    "id=\"divRplyFwdMsg\"",
    "id=\"appendonsend\"",
    "class=\"moz-cite-prefix\"",
    "<blockquote",
    "id=\"mail-editor-reference-message-container\"",
    "class=\"OutlookMessageHeader\"",
];

/// Lines that begin the quoted email in any client and language (compared lower-cased, trimmed).
const SEPARATORS: [&str; 6] = [
    "-----original message-----",
    "-----alkuperäinen viesti-----",
    "-----ursprungligt meddelande-----",
    "-----ursprungligt meddelande----",
    "-------- original message --------",
    "-------- alkuperäinen viesti --------",
];

/// An Outlook header block: a `From:` line in one of the languages, followed closely by a
/// date line.
const FROM_LABELS: [&str; 4] = ["from:", "lähettäjä:", "från:", "lähettäjä :"];
const DATE_LABELS: [&str; 8] = [
    "sent:",
    "date:",
    "lähetetty:",
    "päivämäärä:",
    "skickat:",
    "datum:",
    "to:",
    "vastaanottaja:",
];

/// Words of an attribution line ("… wrote:"), per language.
const WROTE: [&str; 4] = ["wrote", "kirjoitti", "skrev", "schrieb"];

/// A phone's signature line.
const SENT_FROM: [&str; 6] = [
    "sent from my ",
    "lähetetty iphonesta",
    "lähetetty androidista",
    "lähetetty laitteesta",
    "skickat från min ",
    "get outlook for ",
];

/// The new text of a reply, from its plain-text part or, without one, its HTML part.
pub fn reply_text(plain: Option<&str>, html: Option<&str>) -> String {
    match (plain, html) {
        (Some(plain), _) if !plain.trim().is_empty() => new_text(plain),
        (_, Some(html)) => new_text(&html_to_text(cut_html(html))),
        _ => String::new(),
    }
}

/// The HTML before the first quote marker.
fn cut_html(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    let at = HTML_QUOTE_MARKERS
        .iter()
        .filter_map(|marker| lower.find(&marker.to_ascii_lowercase()))
        .min();
    match at {
        // The marker is inside a tag; cut where that tag opens.
        Some(at) => {
            let open = lower[..at].rfind('<').unwrap_or(at);
            html.get(..open).unwrap_or(html)
        }
        None => html,
    }
}

/// The HTML's text, with a line break after each block (the converter breaks lines only at
/// `<br>` and `</p>`), and at most one empty line between paragraphs.
fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut marked = String::with_capacity(html.len() + 64);
    let mut last = 0;
    for (at, _) in lower.match_indices("</") {
        let rest = &lower[at + 2..];
        let block = [
            "div",
            "p>",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "blockquote",
            "table",
        ]
        .iter()
        .any(|tag| rest.starts_with(tag));
        if block && let Some(close) = rest.find('>') {
            let end = at + 2 + close + 1;
            marked.push_str(&html[last..end]);
            marked.push_str("<br>");
            last = end;
        }
    }
    marked.push_str(&html[last..]);
    let text = mail_parser::decoders::html::html_to_text(&marked);
    let mut out = String::with_capacity(text.len());
    let mut empty_run = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            empty_run += 1;
            if empty_run > 1 {
                continue;
            }
            out.push('\n');
        } else {
            empty_run = 0;
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The new text of a plain-text reply.
pub fn new_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if begins_quote(&lines, i) {
            end = i;
            break;
        }
        let trimmed = line.trim_end();
        let lower = trimmed.trim_start().to_lowercase();
        if trimmed == "--" || trimmed == "-- " || line.trim_end_matches('\r') == "-- " {
            end = i;
            break;
        }
        if SENT_FROM.iter().any(|p| lower.starts_with(p)) {
            end = i;
            break;
        }
    }
    let kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    kept.join("\n").trim().to_owned()
}

/// Whether the quoted email begins at line `i`.
fn begins_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_lowercase();
    if SEPARATORS.contains(&lower.as_str()) {
        return true;
    }
    if lower.len() >= 20 && lower.chars().all(|c| c == '_') {
        return true;
    }
    // A quoted block that follows directly (no attribution line).
    if line.starts_with('>') && lines[i..].iter().all(|l| quoted_or_blank(l)) {
        return true;
    }
    if FROM_LABELS.iter().any(|label| lower.starts_with(label)) {
        let next = lines[i + 1..]
            .iter()
            .take(4)
            .map(|l| l.trim().to_lowercase());
        if next
            .into_iter()
            .any(|l| DATE_LABELS.iter().any(|label| l.starts_with(label)))
        {
            return true;
        }
    }
    // An attribution line, possibly wrapped onto the next line: it mentions writing, ends with
    // a colon and names a time or a date, and quoted text (or nothing) follows.
    let quote_follows = |from: usize| {
        lines
            .get(from..)
            .unwrap_or_default()
            .iter()
            .find(|l| !l.trim().is_empty())
            .is_none_or(|l| l.trim_start().starts_with('>'))
    };
    if attribution(&lower) && quote_follows(i + 1) {
        return true;
    }
    lines.get(i + 1).is_some_and(|next| {
        attribution(&format!("{lower} {}", next.trim().to_lowercase())) && quote_follows(i + 2)
    })
}

fn quoted_or_blank(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('>')
}

fn attribution(line: &str) -> bool {
    line.ends_with(':')
        && line.chars().count() < 300
        && line.chars().any(|c| c.is_ascii_digit())
        && line
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| WROTE.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quote_after_an_attribution_line_is_cut() {
        let reply = "Kyllä, osallistumme.\n\nTerveisin Kari\n\nma 1.12.2026 klo 10.00 Digimentor <reply+abc@r.x.fi> kirjoitti:\n> Vastaa viimeistään\n> 10.12.";
        assert_eq!(new_text(reply), "Kyllä, osallistumme.\n\nTerveisin Kari");
    }

    #[test]
    fn a_wrapped_gmail_attribution_is_found() {
        let reply = "Yes.\n\nOn Mon, 1 Dec 2026 at 10:00, Kari Hiltunen via Digimentor <\nreply+abc@r.x.fi> wrote:\n\n> Quoted";
        assert_eq!(new_text(reply), "Yes.");
    }

    #[test]
    fn outlook_blocks_in_three_languages_are_cut() {
        for (from, sent) in [
            ("From: Digimentor", "Sent: Monday, December 1, 2026 10:00"),
            (
                "Lähettäjä: Digimentor",
                "Lähetetty: maanantai 1. joulukuuta 2026 10.00",
            ),
            ("Från: Digimentor", "Skickat: den 1 december 2026 10:00"),
        ] {
            let reply = format!("Svar.\n\n{from}\n{sent}\nTo: x\nSubject: y\n\nOriginal");
            assert_eq!(new_text(&reply), "Svar.", "{from}");
        }
        assert_eq!(
            new_text("Vastaus\n-----Alkuperäinen viesti-----\nLähettäjä: x"),
            "Vastaus"
        );
        assert_eq!(
            new_text("Answer\n________________________________\nFrom: x"),
            "Answer"
        );
    }

    #[test]
    fn signatures_and_phone_lines_are_cut_but_a_from_word_in_the_text_is_not() {
        assert_eq!(new_text("Answer\n-- \nKari\nDean"), "Answer");
        assert_eq!(new_text("Svar\n\nSkickat från min iPhone"), "Svar");
        assert_eq!(
            new_text("From: the faculty's point of view, yes.\nWe agree."),
            "From: the faculty's point of view, yes.\nWe agree."
        );
        assert_eq!(
            new_text("I wrote 3 drafts: this is the last:\nIt works."),
            "I wrote 3 drafts: this is the last:\nIt works."
        );
    }

    #[test]
    fn html_only_replies_are_cut_at_the_clients_quote() {
        let gmail = r#"<div dir="ltr">Vi deltar gärna.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">Den mån 1 dec. 2026 kl 10:00 skrev Digimentor:<br></div><blockquote>Citat</blockquote></div>"#;
        assert_eq!(reply_text(None, Some(gmail)), "Vi deltar gärna.");
        let outlook = r#"<html><body><div>We answer &amp; agree.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Digimentor</div></body></html>"#;
        assert_eq!(reply_text(None, Some(outlook)), "We answer & agree.");
    }

    mod generated {
        use super::super::*;
        use proptest::prelude::*;

        /// What people write above a quote: words, digits, punctuation and line breaks, in any
        /// script, without the characters quoting and signatures are made of.
        fn written() -> impl Strategy<Value = String> {
            "[a-zA-ZåäöÅÄÖé0-9 ,.!?()ΩЖ€]{1,40}(\n{1,2}[a-zA-ZåäöÅÄÖé0-9 ,.!?ΩЖ€]{1,40}){0,4}"
                .prop_filter("some text", |s| !s.trim().is_empty())
                .prop_filter("no phone signature", |s| {
                    !SENT_FROM
                        .iter()
                        .any(|p| s.to_lowercase().contains(p.trim()))
                })
        }

        fn attribution() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("On Tue, 1 Dec 2026 at 10:00, Kari <k@x.fi> wrote:".to_owned()),
                Just("ti 1.12.2026 klo 10.00 Kari <k@x.fi> kirjoitti:".to_owned()),
                Just("Den tis 1 dec. 2026 kl 10:00 skrev Kari <k@x.fi>:".to_owned()),
                Just("On 1 Dec 2026, at 10.00, Kari <k@x.fi> wrote:".to_owned()),
                Just("Kari kirjoitti 1.12.2026 klo 10.00:".to_owned()),
                Just("Den 2026-12-01 kl. 10:00, skrev Kari:".to_owned()),
                Just("-----Original Message-----\nFrom: x\nSent: y".to_owned()),
                Just("Lähettäjä: Digimentor\nLähetetty: 1.12.2026".to_owned()),
                Just("Från: Digimentor\nSkickat: den 1 december 2026".to_owned()),
                Just("________________________________\nFrom: x".to_owned()),
            ]
        }

        proptest! {
            #[test]
            fn what_was_written_above_any_clients_quote_is_kept_whole(
                new in written(),
                header in attribution(),
                quoted in proptest::collection::vec(".{0,80}", 0..6),
                crlf in any::<bool>(),
            ) {
                let quote: String = quoted.iter().map(|l| format!("> {l}\n")).collect();
                let mut reply = format!("{new}\n\n{header}\n{quote}");
                if crlf {
                    reply = reply.replace('\n', "\r\n");
                }
                let expected = new
                    .lines()
                    .map(str::trim_end)
                    .collect::<Vec<_>>()
                    .join("\n");
                prop_assert_eq!(new_text(&reply).lines().map(str::trim_end).collect::<Vec<_>>().join("\n"), expected.trim());
            }

            #[test]
            fn any_text_or_html_gives_lines_of_the_input_and_never_panics(
                text in "(?s).{0,400}",
                html in "(?s)(<div>|</div>|<br>|<blockquote>|<p>|</p>|class=\"gmail_quote\"|&amp;|.){0,200}",
            ) {
                let out = reply_text(Some(&text), None);
                let input: Vec<&str> = text.lines().map(str::trim).collect();
                for line in out.lines() {
                    prop_assert!(input.contains(&line.trim()), "{line:?} is not from the input");
                }
                let _ = reply_text(None, Some(&html));
            }
        }
    }
}
