//! The one HTTP error type and our JSON extractor.
//!
//! Every error leaves the server as `{"error": {"code": "snake_case", "message": "..."}}` with a
//! fitting status. Client mistakes (bad JSON, wrong types, unknown fields, oversized bodies) are
//! 4xx with a message that says what was wrong; internal failures are a 500 whose message is
//! generic while the cause goes to the log, so internals never leak to a client.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Serialize, de::DeserializeOwned};
use ts_rs::TS;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// Machine-readable code plus a human message.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct ErrorDetail {
    /// Stable snake_case code clients branch on.
    pub code: String,
    /// What went wrong, for a human.
    pub message: String,
}

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

impl AppError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 429 `rate_limited` with a `Retry-After` header.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many failed attempts; retry in {} s", retry_after_secs.max(1)),
            )
        }
    }
    /// 500 with a generic message; the cause is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal server error")
    }
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.into(), message: self.message } };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let (status, code) = match rejection {
            JsonRejection::JsonDataError(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => (status, "payload_too_large"),
            _ => (StatusCode::BAD_REQUEST, "invalid_body"),
        };
        // body_text() names the field and the problem ("unknown field `x`", "invalid type ...")
        // without echoing the request back.
        Self::new(status, code, rejection_text(status, code))
    }
}

fn rejection_text(status: StatusCode, code: &str) -> String {
    match code {
        "payload_too_large" => "request body is too large".into(),
        "unsupported_media_type" => "expected `Content-Type: application/json`".into(),
        _ => format!("request body rejected ({status})"),
    }
}

/// `Json<T>` whose rejections use our error shape and say precisely what was wrong.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let detail = rejection.body_text();
                let mut err = AppError::from(rejection);
                if matches!(err.code, "invalid_json" | "invalid_body") {
                    err.message = detail;
                }
                Err(err)
            }
        }
    }
}

/// `Query<T>` whose rejections use our error shape (unknown or ill-typed parameters → 400).
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|r| AppError::bad_request("invalid_query", r.body_text()))
    }
}

/// Fallback for unknown `/api` routes: JSON 404 rather than the SPA page.
pub async fn api_not_found() -> AppError {
    AppError::not_found("no such API route")
}

/// Maps a panic inside a handler to our 500 shape (the panic message is logged, not sent).
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    AppError::internal(format!("handler panicked: {detail}")).into_response()
}
