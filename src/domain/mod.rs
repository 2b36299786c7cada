//! The rules of the business: no HTTP, no SQL.

pub mod access;
pub mod calendar;
pub mod credit;
pub mod day;
pub mod directory;
pub mod eligibility;
pub mod events;
pub mod money;
pub mod product;
pub mod recommendation;
pub mod risk_pool;
pub mod score;
pub mod score_import;
pub mod score_model;
pub mod servicing;
pub mod subsidy;
pub mod text;
pub mod uscc;
pub mod webhook;

pub use access::{Principal, Role, Scope};
pub use money::{Money, RateBps};
pub use score::{Period, Score, Stage};
pub use uscc::Uscc;

/// One problem with one field of the input, or with one row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The 1-based data row of an import.
    pub row: Option<u32>,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row: None, field: field.into(), message: message.into() }
    }

    pub fn at_row(row: u32, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row: Some(row), field: field.into(), message: message.into() }
    }
}

/// Declares a closed set of snake_case names that is stored as text and shown in the OpenAPI
/// document as an enum.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(poem_openapi::Enum, serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[oai(rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted names, for error messages.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// An enterprise's size class (大型, 中型, 小型, 微型).
    EnterpriseSize { Micro => "micro", Small => "small", Medium => "medium", Large => "large" }
);

text_enum!(
    /// A qualification an enterprise holds.
    Qualification {
        HighTechEnterprise => "high_tech_enterprise",
        SpecializedSme => "specialized_sme",
        LittleGiant => "little_giant",
        TechSme => "tech_sme",
    }
);
