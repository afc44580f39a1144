//! The JSON underneath the header: [`Parser`], a cursor that reads punctuation, keys, strings
//! and numbers and rejects anything JSON does not allow (`header.rs` adds the methods that read
//! the header's schema with it), and [`json_string`], the escaper the writer uses.

use alloc::string::String;

use super::FormatError;

/// A cursor over the header, reading exactly the JSON the format allows.
///
/// Each method reads one construct starting at `pos` (whitespace before it already skipped)
/// and leaves `pos` just after it. Nothing recurses: the header's shape is fixed, and a value
/// of the wrong kind is an error as soon as its first byte is seen.
pub(super) struct Parser<'h> {
    pub(super) text: &'h str,
    pub(super) bytes: &'h [u8],
    pub(super) pos: usize,
}

impl<'h> Parser<'h> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn error(&self, problem: &'static str) -> FormatError {
        FormatError::Json { position: self.pos, problem }
    }

    pub(super) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` if it is next.
    pub(super) fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// What kind of JSON value starts at `pos`, for wrong-type messages; a syntax error if none does.
    pub(super) fn kind(&self) -> Result<&'static str, FormatError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        match rest.first() {
            Some(b'{') => Ok("an object"),
            Some(b'[') => Ok("an array"),
            Some(b'"') => Ok("a string"),
            Some(b'-' | b'0'..=b'9') => Ok("a number"),
            _ if rest.starts_with(b"true") || rest.starts_with(b"false") => Ok("a boolean"),
            _ if rest.starts_with(b"null") => Ok("null"),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of the header")),
        }
    }

    /// After a member of an object or an element of an array: `true` after a comma (another
    /// follows), `false` after `close`.
    pub(super) fn more(&mut self, close: u8, problem: &'static str) -> Result<bool, FormatError> {
        self.skip_whitespace();
        if self.eat(b',') {
            self.skip_whitespace();
            Ok(true)
        } else if self.eat(close) {
            Ok(false)
        } else {
            Err(self.error(problem))
        }
    }

    /// After an object's `{`: `true` if a member follows, `false` after an immediate `}`.
    pub(super) fn object_has_members(&mut self) -> bool {
        self.skip_whitespace();
        !self.eat(b'}')
    }

    /// An object member's key and the colon after it; leaves `pos` at the value.
    pub(super) fn key(&mut self) -> Result<String, FormatError> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.string()?;
        self.skip_whitespace();
        if !self.eat(b':') {
            return Err(self.error("expected ':' after a key"));
        }
        self.skip_whitespace();
        Ok(key)
    }

    /// A JSON number, checked against JSON's grammar and classified.
    pub(super) fn number(&mut self) -> Result<Number, FormatError> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let mut value = Some(0usize);
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(FormatError::Json {
                        position: start,
                        problem: "leading zeros are not allowed in numbers",
                    });
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(digit @ b'0'..=b'9') = self.peek() {
                    value = value.and_then(|v| v.checked_mul(10)?.checked_add(usize::from(digit - b'0')));
                    self.pos += 1;
                }
            }
            _ => return Err(self.error("expected a digit")),
        }
        let mut fraction = false;
        if self.eat(b'.') {
            fraction = true;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            fraction = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(match value {
            _ if negative => Number::Negative,
            _ if fraction => Number::Fraction,
            Some(value) => Number::Integer(value),
            None => Number::TooLarge,
        })
    }

    /// One or more decimal digits.
    fn digits(&mut self) -> Result<(), FormatError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.error("expected a digit"));
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Ok(())
    }

    /// A string, unescaped. `pos` is at the opening quote.
    pub(super) fn string(&mut self) -> Result<String, FormatError> {
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    out.push_str(self.slice(run)?);
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.slice(run)?);
                    self.pos += 1;
                    out.push(self.escape()?);
                    run = self.pos;
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in a string (JSON needs it escaped)")),
                Some(_) => self.pos += 1,
            }
        }
    }

    /// The text from `start` to `pos`. Both are at ASCII bytes of valid UTF-8, so this never fails.
    fn slice(&self, start: usize) -> Result<&'h str, FormatError> {
        self.text.get(start..self.pos).ok_or(FormatError::Json { position: start, problem: "invalid UTF-8" })
    }

    /// The character an escape stands for; `pos` is just after the backslash.
    fn escape(&mut self) -> Result<char, FormatError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        // Errors point at the backslash.
        let start = self.pos.saturating_sub(1);
        self.pos += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unpaired =
                    FormatError::Json { position: start, problem: "unpaired UTF-16 surrogate in \\u escape" };
                let code = match self.hex4()? {
                    high @ 0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low one.
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(unpaired);
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(unpaired);
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(unpaired),
                    code => code,
                };
                char::from_u32(code).ok_or(unpaired)?
            }
            _ => return Err(FormatError::Json { position: start, problem: "invalid escape in a string" }),
        })
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, FormatError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|b| char::from(b).to_digit(16));
            let Some(digit) = digit else {
                return Err(self.error("expected four hex digits after \\u"));
            };
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }
}

/// A JSON number, classified as the header needs it.
pub(super) enum Number {
    Integer(usize),
    TooLarge,
    Negative,
    Fraction,
}

impl Number {
    /// What a non-integer was, for error messages.
    pub(super) fn describe(&self) -> &'static str {
        match self {
            Number::Integer(_) => "an integer",
            Number::TooLarge => "an integer too large for usize",
            Number::Negative => "a negative number",
            Number::Fraction => "a number with a fraction or exponent",
        }
    }
}

/// Appends `s` as a JSON string, escaping what JSON requires and nothing else (non-ASCII stays
/// UTF-8, as serde_json writes it).
pub(super) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let byte = c as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn parse_string(json: &str) -> Result<String, FormatError> {
        let mut parser = Parser { text: json, bytes: json.as_bytes(), pos: 0 };
        let s = parser.string()?;
        assert_eq!(parser.pos, json.len(), "the string should end the input");
        Ok(s)
    }

    #[test]
    fn string_escapes() {
        assert_eq!(parse_string(r#""a\"b\\c\/d\b\f\n\r\t""#).unwrap(), "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(parse_string(r#""\u00e9\u4E2D""#).unwrap(), "é中");
        assert_eq!(parse_string(r#""\ud83d\ude00x""#).unwrap(), "😀x");
        assert_eq!(parse_string("\"raw é中😀\"").unwrap(), "raw é中😀");
        let problem = |json| match parse_string(json) {
            Err(FormatError::Json { problem, .. }) => problem,
            other => panic!("{json}: {other:?}"),
        };
        assert!(problem(r#""\ud83d""#).contains("surrogate"));
        assert!(problem(r#""\ud83dx""#).contains("surrogate"));
        assert!(problem(r#""\ud83d\u0041""#).contains("surrogate"));
        assert!(problem(r#""\ude00""#).contains("surrogate"));
        assert!(problem(r#""\u12g4""#).contains("hex"));
        assert!(problem(r#""\u12"#).contains("hex"));
        assert!(problem(r#""\x""#).contains("escape"));
        assert!(problem("\"a\nb\"").contains("control"));
        assert!(problem(r#""abc"#).contains("unterminated"));
        assert!(problem(r#""abc\"#).contains("unterminated"));
    }

    #[test]
    fn numbers_are_classified() {
        let classify = |json: &str| {
            let mut parser = Parser { text: json, bytes: json.as_bytes(), pos: 0 };
            parser.number().map(|n| match n {
                Number::Integer(v) => v.to_string(),
                other => other.describe().to_string(),
            })
        };
        assert_eq!(classify("0").unwrap(), "0");
        assert_eq!(classify("1234").unwrap(), "1234");
        assert_eq!(classify(&usize::MAX.to_string()).unwrap(), usize::MAX.to_string());
        assert_eq!(classify("99999999999999999999999").unwrap(), "an integer too large for usize");
        assert_eq!(classify("-1").unwrap(), "a negative number");
        assert_eq!(classify("-0").unwrap(), "a negative number");
        assert_eq!(classify("1.0").unwrap(), "a number with a fraction or exponent");
        assert_eq!(classify("1e3").unwrap(), "a number with a fraction or exponent");
        assert_eq!(classify("1E+3").unwrap(), "a number with a fraction or exponent");
        for bad in ["-", "01", "1.", "1.e3", "1e", "1e+", ".5", "-a"] {
            assert!(matches!(classify(bad), Err(FormatError::Json { .. })), "{bad}");
        }
    }

    #[test]
    fn json_string_escapes_round_trip() {
        let nasty = "q\"b\\s/\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}é😀";
        let mut out = String::new();
        json_string(&mut out, nasty);
        assert_eq!(out, "\"q\\\"b\\\\s/\\u0000\\u001f\u{7f}\\n\\r\\t\\b\\fé😀\"");
        assert_eq!(parse_string(&out).unwrap(), nasty);
    }
}
