//! Responses written by serde, documented by poem-openapi: for answers assembled around JSON
//! that was rendered once and is served many times.

use std::{borrow::Cow, marker::PhantomData, sync::Arc};

use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde::Serialize;
use serde_json::value::RawValue;

/// A `T` rendered to JSON once (a product in the catalogue) and written as is wherever it
/// appears. The document shows `T`'s schema.
pub struct Rendered<T>(Arc<RawValue>, PhantomData<fn() -> T>);

impl<T> Clone for Rendered<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<T: ToJSON> Rendered<T> {
    pub fn new(value: &T) -> Self {
        let text = value.to_json_string();
        // `to_json_string` writes valid JSON; should it not, the value is written as `null`.
        let raw = RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Self(Arc::from(raw), PhantomData)
    }
}

impl<T> Rendered<T> {
    /// JSON text written elsewhere in the shape of `T` (an event, written the same way for the
    /// feed and for webhooks).
    pub fn from_json_text(text: String) -> Self {
        let raw = RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Self(Arc::from(raw), PhantomData)
    }
}

impl<T> Serialize for Rendered<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<T: Type> Type for Rendered<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<T: Type> ToJSON for Rendered<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.0.get()).ok()
    }
}

impl<T: Type + ToJSON + ParseFromJSON> ParseFromJSON for Rendered<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        T::parse_from_json(value).map(|v| Rendered::new(&v)).map_err(ParseError::propagate)
    }
}

/// A response body of type `T`, written with serde rather than through poem-openapi's
/// `serde_json::Value`: `T` derives both, so one type documents the answer and writes it.
pub struct SerdeJson<T>(pub T);

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type + Send> Payload for SerdeJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Serialize + Send> IntoResponse for SerdeJson<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => Response::builder().content_type(CONTENT_TYPE).body(body),
            Err(err) => {
                tracing::error!(error = %err, "writing a response");
                super::error::ApiError::internal().into_response()
            }
        }
    }
}
