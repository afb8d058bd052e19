//! Server-rendered pages (askama templates in `templates/`, escaped by default, checked at
//! compile time), French by default and English one click away (`?lang=en`), every text from
//! the message catalogue. Handlers stay thin: they ask a use case and hand the answer to a
//! template.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use scelle_verifier::i18n::{Lang, Message};

use super::{auth, csrf};

/// The page's language: `?lang=` if given, else the browser's first known language, else French.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let from_query = req.query_string().split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "lang").then(|| Lang::from_tag(value)).flatten()
    });
    let from_browser = || {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)?
            .to_str()
            .ok()?
            .split(',')
            .find_map(|part| Lang::from_tag(part.split(';').next().unwrap_or_default()))
    };
    from_query.or_else(from_browser).unwrap_or_default()
}

/// The languages a page in `lang` offers to switch to.
fn other_langs(lang: Lang) -> Vec<Lang> {
    Lang::ALL.into_iter().filter(|l| *l != lang).collect()
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    other_langs: Vec<Lang>,
    error: Option<String>,
    /// The form's anti-CSRF token, equal to its cookie.
    csrf: String,
}

impl LoginPage {
    fn t(&self, key: &'static str) -> String {
        Message::new(key).render(self.lang)
    }
}

/// The headers every page carries: no script, no other origin, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A rendered page, or the catalogue's internal error if the template could not render.
fn page(html: Result<String, askama::Error>) -> HttpResponse {
    match html {
        Ok(body) => HttpResponse::Ok()
            .content_type(ContentType::html())
            .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
            .insert_header(("X-Frame-Options", "DENY"))
            .insert_header(("Referrer-Policy", "same-origin"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// `GET /login`.
pub async fn login_page(req: HttpRequest) -> HttpResponse {
    let lang = lang_of(&req);
    let csrf = csrf::cookie_token(&req).unwrap_or_else(csrf::new_token);
    let secure = req.connection_info().scheme() == "https";
    let mut response = page(
        LoginPage {
            lang,
            other_langs: other_langs(lang),
            error: None,
            csrf: csrf.clone(),
        }
        .render(),
    );
    if let Err(e) = response.add_cookie(&auth::csrf_cookie(csrf, secure)) {
        tracing::error!(error = %e, "the anti-CSRF cookie could not be set");
    }
    response
}

/// `GET /static/scelle.css`: the pages' one style sheet, compiled in.
pub async fn style_sheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(include_str!("../../static/scelle.css"))
}
