//! The embedded web UI (`web/dist`, built by Vite): static assets with cache headers and the SPA
//! fallback to `index.html` for client-side routes.
//!
//! Release builds embed the files (nothing on disk is needed at run time, no CDN); debug builds
//! read them from `web/dist` so a `npm run build` shows up without recompiling Rust.

use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[exclude = ".gitkeep"]
#[exclude = "*.map"]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><html><head><title>J.A.R.V.I.S.</title></head>\
<body style=\"background:#0a0a0f;color:#e8e0d0;font-family:monospace;padding:2em\">\
<h1>The web UI has not been built</h1><p>Run <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> \
and reload. The API is up: <a style=\"color:#ffb800\" href=\"/api/health\">/api/health</a>.</p></body></html>";

/// Serves a static file, or `index.html` for anything that looks like a client-side route.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty()
        && let Some(file) = Assets::get(path)
    {
        // Vite fingerprints everything under assets/, so it may be cached forever.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
            file.data,
        )
            .into_response();
    }
    // A missing file with an extension is a real 404, not the SPA.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match Assets::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            index.data,
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response(),
    }
}
