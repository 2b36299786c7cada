//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

use std::fmt;

/// The 31 characters a USCC may use: digits and upper-case letters without I, O, S, V and Z.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters in the check-character sum.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A USCC whose length, alphabet and check character have been verified.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a USCC has 18 characters, this one has {0}")]
    Length(usize),
    #[error(
        "character {position} ('{found}') is not allowed in a USCC (allowed: 0-9 and A-Y without I, O, S, V, Z)"
    )]
    Character { position: usize, found: char },
    #[error("the check character is '{found}' but should be '{expected}'; the code is mistyped")]
    CheckCharacter { found: char, expected: char },
}

fn index_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|i| i as u32)
}

/// The check character for the first 17 characters of a code, each already an alphabet index.
fn check_character(indices: &[u32; 17]) -> char {
    let sum: u32 = indices.iter().zip(WEIGHTS).map(|(i, w)| i * w).sum();
    char::from(ALPHABET[((31 - sum % 31) % 31) as usize])
}

impl Uscc {
    /// Parses a code, accepting lower case and surrounding whitespace.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let count = code.chars().count();
        if count != 18 {
            return Err(UsccError::Length(count));
        }
        let bytes = code.as_bytes();
        let mut indices = [0u32; 17];
        for (position, &b) in bytes.iter().enumerate() {
            let index =
                index_of(b).ok_or(UsccError::Character { position: position + 1, found: char::from(b) })?;
            if let Some(slot) = indices.get_mut(position) {
                *slot = index;
            }
        }
        let expected = check_character(&indices);
        let found = char::from(bytes[17]);
        if found != expected {
            return Err(UsccError::CheckCharacter { found, expected });
        }
        Ok(Self(code))
    }

    /// Completes 17 valid characters with their check character. Used by the demo and test data.
    pub fn with_check_character(first17: &str) -> Result<Self, UsccError> {
        let count = first17.chars().count();
        if count != 17 {
            return Err(UsccError::Length(count + 1));
        }
        let mut indices = [0u32; 17];
        for (position, b) in first17.bytes().enumerate() {
            indices[position] =
                index_of(b).ok_or(UsccError::Character { position: position + 1, found: char::from(b) })?;
        }
        let check = check_character(&indices);
        Ok(Self(format!("{first17}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_reference_code() {
        let uscc = Uscc::parse("91350100M000100Y43").unwrap();
        assert_eq!(uscc.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(Uscc::parse(" 91350100m000100y43 ").unwrap().as_str(), "91350100M000100Y43");
    }

    #[test]
    fn rejects_a_wrong_check_character() {
        let err = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(err, UsccError::CheckCharacter { found: '4', expected: '3' });
        assert!(err.to_string().contains("should be '3'"));
    }

    #[test]
    fn rejects_wrong_lengths_and_letters() {
        assert_eq!(Uscc::parse("91350100M000100Y4").unwrap_err(), UsccError::Length(17));
        assert_eq!(Uscc::parse("").unwrap_err(), UsccError::Length(0));
        assert_eq!(
            Uscc::parse("91350100I000100Y43").unwrap_err(),
            UsccError::Character { position: 9, found: 'I' }
        );
        assert!(matches!(Uscc::parse("9135010０M000100Y43"), Err(UsccError::Character { .. })));
    }

    #[test]
    fn completes_a_code() {
        assert_eq!(Uscc::with_check_character("91350100M000100Y4").unwrap().as_str(), "91350100M000100Y43");
    }

    fn alphabet_char() -> impl Strategy<Value = char> {
        proptest::sample::select(ALPHABET.iter().map(|&b| char::from(b)).collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn every_completed_code_parses(chars in proptest::collection::vec(alphabet_char(), 17)) {
            let first17: String = chars.into_iter().collect();
            let uscc = Uscc::with_check_character(&first17).unwrap();
            prop_assert_eq!(Uscc::parse(uscc.as_str()).unwrap(), uscc);
        }

        #[test]
        fn any_single_substitution_is_caught(
            chars in proptest::collection::vec(alphabet_char(), 17),
            position in 0usize..18,
            replacement in alphabet_char(),
        ) {
            let first17: String = chars.into_iter().collect();
            let valid = Uscc::with_check_character(&first17).unwrap();
            let mut bytes = valid.as_str().as_bytes().to_vec();
            prop_assume!(bytes[position] != replacement as u8);
            bytes[position] = replacement as u8;
            let mutated = String::from_utf8(bytes).unwrap();
            prop_assert!(Uscc::parse(&mutated).is_err());
        }

        #[test]
        fn never_panics(input in ".{0,40}") {
            let _ = Uscc::parse(&input);
        }
    }
}
