//! JSON that was serialized once and is served many times, documented as the type it holds.

use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

/// A JSON document of type `T`, already serialized: a cached score, or a response assembled from
/// cached parts. The OpenAPI document shows `T`'s schema.
pub struct RawJson<T>(String, PhantomData<fn() -> T>);

impl<T> RawJson<T> {
    /// Wraps text that is the JSON serialization of a `T`.
    pub fn new(json: String) -> Self {
        Self(json, PhantomData)
    }
}

impl<T: Type> Payload for RawJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

const CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T> IntoResponse for RawJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(CONTENT_TYPE).body(self.0)
    }
}
