//! Gives every GraphQL error an `extensions.code`, including the ones async-graphql raises
//! itself (parse errors, validation errors, limits): those are the client's fault, so they get
//! `BAD_USER_INPUT`. Each error is also counted by code for `/metrics`, and messages are cut to
//! a few hundred characters (a parse error quotes the document it could not read).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::{Response, ServerError, Value};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::error::ErrorCode;
use crate::metrics::Metrics;

/// The extension factory to register on the schema.
pub struct ErrorCodes(pub Arc<Metrics>);

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension(self.0.clone()))
    }
}

struct ErrorCodesExtension(Arc<Metrics>);

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        with_codes(&self.0, next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let metrics = self.0.clone();
        next.run(ctx, stream)
            .map(move |response| with_codes(&metrics, response))
            .boxed()
    }
}

/// Longest error message sent; parse errors quote the document, which may be huge.
const MAX_MESSAGE_CHARS: usize = 300;

fn with_codes(metrics: &Metrics, mut response: Response) -> Response {
    for error in &mut response.errors {
        ensure_code(error);
        shorten(&mut error.message);
        if let Some(Value::String(code)) = error.extensions.as_ref().and_then(|e| e.get("code")) {
            metrics.graphql_error(code);
        }
    }
    response
}

/// Cuts a message to [`MAX_MESSAGE_CHARS`] characters, marking the cut.
fn shorten(message: &mut String) {
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
}

/// Adds `BAD_USER_INPUT` to an error that has no code yet.
pub fn ensure_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", Value::from(ErrorCode::BadUserInput.as_str()));
    }
}

/// An error raised by an extension before any resolver runs, with its code (and the input
/// field it is about, if any).
pub fn coded_error(
    message: impl Into<String>,
    code: ErrorCode,
    field: Option<&str>,
) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code.as_str());
    if let Some(field) = field {
        extensions.set("field", field);
    }
    error.extensions = Some(extensions);
    error
}

/// The `field` extension of the first error that has one: which input an in-process
/// operation's refusal is about.
pub fn field_of(errors: &[async_graphql::ServerError]) -> Option<String> {
    errors
        .iter()
        .find_map(|e| match e.extensions.as_ref()?.get("field")? {
            async_graphql::Value::String(field) => Some(field.clone()),
            _ => None,
        })
}

/// The `code` extension of the first error that has one (an in-process operation's refusal, as
/// web pages and email replies read it).
pub fn code_of(errors: &[async_graphql::ServerError]) -> Option<String> {
    errors.iter().find_map(|e| {
        e.extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                async_graphql::Value::Enum(code) => Some(code.to_string()),
                _ => None,
            })
    })
}
