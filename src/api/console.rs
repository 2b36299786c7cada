//! The web console (`console/`), served at `/console/` from the files its build left in
//! `console/dist`, which are compiled into the binary: a server needs nothing beside itself, and
//! the pages load nothing from the network. The console reaches the service through the public
//! API alone, as any client does.

use poem::{Endpoint, EndpointExt, endpoint::EmbeddedFilesEndpoint, http::header, middleware::SetHeader};

#[derive(rust_embed::Embed)]
#[folder = "console/dist"]
struct Assets;

/// What a console page may load: its own files, and calls to this origin. ECharts and Preact set
/// styles from script, hence `'unsafe-inline'` for styles (never for scripts).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// The console's files, to nest at `/console`.
pub fn endpoint() -> impl Endpoint {
    EmbeddedFilesEndpoint::<Assets>::new().with(
        SetHeader::new()
            .overriding(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
            .overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .overriding(header::REFERRER_POLICY, "no-referrer")
            // Assets are named by their content hash; index.html is small and asked each time.
            .overriding(header::CACHE_CONTROL, "no-cache"),
    )
}
