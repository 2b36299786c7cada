//! Events: what happened, to which resource, and who may know.
//!
//! Every state change another party cares about is recorded as an event in the same transaction
//! as the change (the outbox). A party sees an event exactly when it could read the resource
//! (its [`Audience`]); an admin sees every event.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use super::Scope;

macro_rules! event_types {
    ($($variant:ident => $text:literal, $doc:literal;)+) => {
        /// The kinds of event. The name is `<resource>.<what happened>`.
        #[derive(poem_openapi::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $(#[doc = $doc] #[oai(rename = $text)] $variant,)+
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(EventType::$variant),)+ _ => None }
            }
        }
    };
}

event_types! {
    EnterpriseRegistered => "enterprise.registered", "A park registered an enterprise; `data` is the enterprise.";
    ScoresImported => "scores.imported", "A park imported a period's scores; `data` is the import's summary.";
    ProductPublished => "product.published", "A bank published a product; `data` is the product.";
    ProductSuspended => "product.suspended", "A bank suspended a product; `data` is the product.";
    ProductRetired => "product.retired", "A bank retired a product; `data` is the product.";
    ApplicationSubmitted => "application.submitted", "An enterprise applied; `data` is the application.";
    ApplicationUnderReview => "application.under_review", "The bank started reviewing an application.";
    ApplicationApproved => "application.approved", "The bank approved an application (a `credit_line.granted` follows).";
    ApplicationRejected => "application.rejected", "The bank rejected an application.";
    ApplicationWithdrawn => "application.withdrawn", "The enterprise withdrew its application.";
    CreditLineGranted => "credit_line.granted", "A credit line was granted; `data` is the credit line.";
    DisbursementCreated => "disbursement.created", "Money was drawn on a credit line; `data` is the disbursement.";
    CreditLineClosed => "credit_line.closed", "A bank closed a credit line: nothing more can be drawn; `data` is the line.";
    LoanCreated => "loan.created", "A disbursement made a loan (借据); `data` is the loan, with its schedule.";
    RepaymentRecorded => "repayment.recorded", "A bank recorded a repayment; `data` is the repayment and its allocation.";
    LoanOverdue => "loan.overdue", "A loan fell past due (the daily job); `data` is the loan.";
    LoanClassified => "loan.classified", "A loan's classification changed: by its bank, or by days past due (the daily job); `data` is the loan.";
    LoanWrittenOff => "loan.written_off", "A bank wrote a loss loan off (核销); `data` is the loan.";
    RecommendationPublished => "recommendation.published", "A park published a recommendation list to a bank; `data` is the list as that bank sees it.";
    RecommendationAnswered => "recommendation.answered", "A bank answered a recommendation task; `data` is the task.";
    RecommendationOverdue => "recommendation.overdue", "A recommendation task passed its deadline unanswered (the daily job); `data` is the task.";
    RiskClaimFiled => "risk_claim.filed", "A bank claimed on a risk-compensation pool; `data` is the claim.";
    RiskClaimDecided => "risk_claim.decided", "A park office approved (and the pool paid) or rejected a claim; `data` is the claim.";
    SubsidyClaimFiled => "subsidy_claim.filed", "An enterprise, or its park office for it, claimed an interest subsidy; `data` is the claim.";
    SubsidyClaimDecided => "subsidy_claim.decided", "A park office approved (and the programme paid) or rejected a subsidy claim; `data` is the claim.";
    WebhookEndpointDisabled => "webhook_endpoint.disabled", "An endpoint failed for its whole retry schedule and was disabled; `data` is the endpoint.";
}

impl EventType {
    /// The accepted names, for error messages.
    pub fn names() -> String {
        Self::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may see an event: the park, bank and enterprise of its resource, or everyone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    pub park_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    /// Everyone authenticated may read the resource (a product on the shelf).
    pub public: bool,
}

impl Audience {
    /// Everyone authenticated.
    pub fn everyone() -> Self {
        Self { public: true, ..Self::default() }
    }

    /// The parties of a loan: its park, its bank and its enterprise.
    pub fn loan(park_id: i64, bank_id: i64, enterprise_id: i64) -> Self {
        Self {
            park_id: Some(park_id),
            bank_id: Some(bank_id),
            enterprise_id: Some(enterprise_id),
            public: false,
        }
    }

    /// Exactly the holders of `scope`; an admin's scope is the admins alone.
    pub fn of(scope: Scope) -> Self {
        match scope {
            Scope::All => Self::default(),
            Scope::Park(id) => Self { park_id: Some(id), ..Self::default() },
            Scope::Bank(id) => Self { bank_id: Some(id), ..Self::default() },
            Scope::Enterprise(id) => Self { enterprise_id: Some(id), ..Self::default() },
        }
    }

    /// Whether a caller with `scope` may see the event.
    pub fn includes(&self, scope: Scope) -> bool {
        match scope {
            Scope::All => true,
            _ if self.public => true,
            Scope::Park(id) => self.park_id == Some(id),
            Scope::Bank(id) => self.bank_id == Some(id),
            Scope::Enterprise(id) => self.enterprise_id == Some(id),
        }
    }
}

/// An event as stored: what happened, when, to whom it belongs, and the resource as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub event_type: EventType,
    pub created_at: DateTime<Utc>,
    pub audience: Audience,
    /// The resource as its GET rendered it when the event was written, as JSON text.
    pub data: String,
}

/// The digits of an event id: ids are zero-padded so that they increase as text too.
const ID_DIGITS: usize = 19;

impl Event {
    /// The event's public id: its sequence number, zero-padded so that ids sort as text.
    pub fn public_id(id: i64) -> String {
        format!("{id:0ID_DIGITS$}")
    }

    /// Reads a public id back (padded or not).
    pub fn parse_id(text: &str) -> Option<i64> {
        text.parse::<i64>().ok().filter(|&id| id >= 0)
    }

    /// The event as it is sent and listed: `{id, type, created_at, data}`, written the same way
    /// every time, so that every delivery of an event has the same bytes.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            id: String,
            #[serde(rename = "type")]
            event_type: &'static str,
            created_at: String,
            data: &'a RawValue,
        }
        let null = RawValue::NULL;
        let data: Box<RawValue> =
            RawValue::from_string(self.data.clone()).unwrap_or_else(|_| null.to_owned());
        let envelope = Envelope {
            id: Self::public_id(self.id),
            event_type: self.event_type.as_str(),
            created_at: self.created_at.to_rfc3339(),
            data: &data,
        };
        // A struct of strings and valid raw JSON always serializes.
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("application.Submitted"), None);
    }

    #[test]
    fn a_loan_is_its_parties_business() {
        let loan = Audience::loan(1, 2, 3);
        assert!(loan.includes(Scope::All));
        assert!(
            loan.includes(Scope::Park(1))
                && loan.includes(Scope::Bank(2))
                && loan.includes(Scope::Enterprise(3))
        );
        assert!(
            !loan.includes(Scope::Park(2))
                && !loan.includes(Scope::Bank(1))
                && !loan.includes(Scope::Enterprise(1))
        );
        assert!(Audience::everyone().includes(Scope::Enterprise(99)));
        assert!(!Audience::of(Scope::All).includes(Scope::Bank(1)));
    }

    #[test]
    fn ids_sort_as_text_and_the_envelope_is_stable() {
        assert!(Event::public_id(9) < Event::public_id(10));
        assert_eq!(Event::parse_id(&Event::public_id(42)), Some(42));
        assert_eq!(Event::parse_id("42"), Some(42));
        let event = Event {
            id: 7,
            event_type: EventType::ApplicationSubmitted,
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            audience: Audience::loan(1, 2, 3),
            data: r#"{"id":"5","amount":100}"#.into(),
        };
        assert_eq!(
            event.to_json(),
            r#"{"id":"0000000000000000007","type":"application.submitted","created_at":"2023-11-14T22:13:20+00:00","data":{"id":"5","amount":100}}"#
        );
    }
}
