//! Text from a report (probe names, dimension names, release labels, file
//! names) written into Markdown: whatever it holds, it stays text.

/// `s` as Markdown inline text, safe inside a table cell: every character
/// that could start emphasis, code, a link, an image, raw HTML, an entity,
/// strikethrough or a cell boundary is backslash-escaped (CommonMark lets
/// any ASCII punctuation be escaped), and line breaks become spaces.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn markup_stays_text() {
        assert_eq!(markdown("sem"), "sem");
        assert_eq!(markdown("a|b"), r"a\|b");
        assert_eq!(
            markdown("*x* `y` [l](u) <b>"),
            r"\*x\* \`y\` \[l\](u) \<b\>"
        );
        assert_eq!(markdown("a\\b\nc"), r"a\\b c");
        assert_eq!(markdown("&amp; ~~s~~ ![i]"), r"\&amp; \~\~s\~\~ \!\[i\]");
    }
}
