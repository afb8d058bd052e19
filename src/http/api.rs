//! The JSON API: one handler per route, each extracting its input, calling one use case on a
//! blocking thread, and wrapping the answer. The route table is `http::routes`.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use scelle_verifier::model::Purpose;

use crate::error::ServiceError;
use crate::node::Node;
use crate::usecases::admin::{self, NewAgency, NewUser};
use crate::usecases::cases::{self, NewCase};
use crate::usecases::custody::{self, NewCustodyEvent};
use crate::usecases::dossiers::{self, ExportOptions};
use crate::usecases::evidence::{self, NewEvidence};
use crate::usecases::persons::{self, NewPerson};
use crate::usecases::sharing::{self, NewShare};
use crate::usecases::{accounts, dpo, log};

use super::auth::Caller;
use super::blocking::blocking;
use super::errors::ApiError;

type ApiResult = Result<HttpResponse, ApiError>;

fn created(
    key: &str,
    object: impl serde::Serialize,
    receipt: impl serde::Serialize,
) -> HttpResponse {
    HttpResponse::Created().json(json!({ key: object, "receipt": receipt }))
}

pub(super) async fn open_case(
    node: web::Data<Node>,
    caller: Caller,
    body: web::Json<NewCase>,
) -> ApiResult {
    let (case, receipt) =
        blocking(move || cases::open(&node, &caller.0, body.into_inner())).await?;
    Ok(created("case", case, receipt))
}

#[derive(Deserialize)]
pub(super) struct CaseQuery {
    reference: String,
    purpose: Option<String>,
}

/// The stated purpose of a read (`?purpose=`), checked against the known purposes.
fn purpose_of(text: Option<&str>) -> Result<Option<Purpose>, ApiError> {
    text.map(Purpose::parse)
        .transpose()
        .map_err(|e| ApiError::from(ServiceError::Field(e)))
}

#[derive(Deserialize)]
pub(super) struct PurposeQuery {
    purpose: Option<String>,
}

pub(super) async fn find_case(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<CaseQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let case =
        blocking(move || cases::read_by_reference(&node, &caller.0, &q.reference, purpose)).await?;
    Ok(HttpResponse::Ok().json(case))
}

pub(super) async fn get_case(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let case = blocking(move || cases::read(&node, &caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(case))
}

#[derive(Deserialize)]
pub(super) struct DossierQuery {
    /// Include personal-data openings (default: when a purpose is stated).
    personal_data: Option<bool>,
    purpose: Option<String>,
    /// A signed checkpoint the caller already holds (URL-encoded note text).
    since_checkpoint: Option<String>,
}

pub(super) async fn case_dossier(
    node: web::Data<Node>,
    published: web::Data<Option<super::peers::Published>>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<DossierQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let purpose = purpose_of(q.purpose.as_deref())?;
    let cosigned = published.as_ref().as_ref().is_some_and(|p| p.cosigned);
    let opts = ExportOptions {
        personal_data: q.personal_data.unwrap_or(purpose.is_some()),
        since_checkpoint: q.since_checkpoint,
        cosigned_within: cosigned.then_some(super::peers::COSIGNED_DOSSIER_WAIT),
        to_peer: None,
    };
    let dossier =
        blocking(move || dossiers::export_for(&node, &caller.0, &id, &opts, purpose)).await?;
    Ok(HttpResponse::Ok().json(dossier))
}

/// What `POST /api/v1/cases/{id}/transfers` asks: the peer (its name in `peers.policy`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SendDossier {
    peer: String,
}

/// Queues the case's dossier for a peer, under the case's live share to that peer's state;
/// answers 202: the outbox delivers it when the link is up.
pub(super) async fn send_dossier(
    node: web::Data<Node>,
    published: web::Data<Option<super::peers::Published>>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<SendDossier>,
) -> ApiResult {
    let published = published
        .as_ref()
        .clone()
        .ok_or(ServiceError::NotFound(crate::ledger::error::Missing::Peer))?;
    let queued = blocking(move || {
        let dest = published.destination(&body.peer)?;
        crate::usecases::exchange::send_for(
            &node,
            &caller.0,
            &id,
            &dest,
            super::peers::COSIGNED_DOSSIER_WAIT,
        )
    })
    .await?;
    Ok(HttpResponse::Accepted().json(queued))
}

/// The dossiers of a case sent to peers, and how each delivery went.
pub(super) async fn case_transfers(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult {
    let sent =
        blocking(move || crate::usecases::exchange::sent_of_case(&node, &caller.0, &id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": sent })))
}

/// How the node's links to its peers go: each witness's last exchange, each peer's deliveries,
/// and the transfers waiting (administrators and auditors; 404 on a node without peers).
pub(super) async fn network_status(
    node: web::Data<Node>,
    published: web::Data<Option<super::peers::Published>>,
    caller: Caller,
) -> ApiResult {
    let published = published.as_ref().clone();
    let waiting =
        blocking(move || crate::usecases::exchange::waiting_transfers(&node, &caller.0)).await?;
    let published = published.ok_or(ServiceError::NotFound(crate::ledger::error::Missing::Peer))?;
    let answer = json!({
        "cosigned": published.cosigned,
        "witnesses": published.status.links(),
        "deliveries": published.deliveries.status(),
        "transfers_waiting": waiting,
    });
    Ok(HttpResponse::Ok().json(answer))
}

/// The dossiers peers sent that the caller may read.
pub(super) async fn received_list(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<AfterQuery>,
) -> ApiResult {
    let page = blocking(move || {
        crate::usecases::exchange::received_list(&node, &caller.0, q.into_inner().after)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A dossier a peer sent, whole, for a stated purpose under the sender's conditions.
pub(super) async fn received_dossier(
    node: web::Data<Node>,
    caller: Caller,
    transfer: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let dossier =
        blocking(move || crate::usecases::exchange::received(&node, &caller.0, &transfer, purpose))
            .await?;
    Ok(HttpResponse::Ok().json(dossier))
}

pub(super) async fn add_person(
    node: web::Data<Node>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewPerson>,
) -> ApiResult {
    let (person, receipt) =
        blocking(move || persons::add(&node, &caller.0, &case_id, body.into_inner())).await?;
    Ok(created("person", person, receipt))
}

#[derive(Deserialize)]
pub(super) struct PersonsQuery {
    purpose: Option<String>,
    after: Option<u64>,
}

pub(super) async fn case_persons(
    node: web::Data<Node>,
    caller: Caller,
    case_id: web::Path<String>,
    q: web::Query<PersonsQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let after = q.after;
    let page =
        blocking(move || persons::of_case(&node, &caller.0, &case_id, purpose, after)).await?;
    Ok(HttpResponse::Ok().json(json!({ "persons": page.items, "next": page.next })))
}

/// The cursor of a list read in log order (`?after=SEQ`).
#[derive(Deserialize)]
pub(super) struct AfterQuery {
    after: Option<u64>,
}

pub(super) async fn case_evidence(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<AfterQuery>,
) -> ApiResult {
    let after = q.after;
    let page = blocking(move || cases::evidence(&node, &caller.0, &id, after)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub(super) async fn evidence_derivations(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<AfterQuery>,
) -> ApiResult {
    let after = q.after;
    let page = blocking(move || evidence::derivations(&node, &caller.0, &id, after)).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize)]
pub(super) struct TimelineQuery {
    purpose: Option<String>,
    before: Option<u64>,
}

pub(super) async fn evidence_timeline(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<TimelineQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let before = q.before;
    let page = blocking(move || evidence::timeline(&node, &caller.0, &id, before, purpose)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub(super) async fn get_person(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let person = blocking(move || persons::read(&node, &caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(person))
}

pub(super) async fn share_case(
    node: web::Data<Node>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewShare>,
) -> ApiResult {
    let (share, receipt) =
        blocking(move || sharing::share(&node, &caller.0, &case_id, body.into_inner())).await?;
    Ok(created("share", share, receipt))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RevocationBody {
    reason: String,
}

pub(super) async fn revoke_share(
    node: web::Data<Node>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<RevocationBody>,
) -> ApiResult {
    let (case_id, share_id) = path.into_inner();
    let (revocation, receipt) =
        blocking(move || sharing::revoke(&node, &caller.0, &case_id, &share_id, &body.reason))
            .await?;
    Ok(created("revocation", revocation, receipt))
}

#[derive(Deserialize)]
pub(super) struct AccessQuery {
    case: Option<String>,
    user: Option<String>,
    before: Option<u64>,
    limit: Option<u64>,
}

pub(super) async fn access_records(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<AccessQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let filter = dpo::AccessFilter {
        case_id: q.case,
        actor_id: q.user,
        before: q.before,
        limit: q.limit,
    };
    let page = blocking(move || dpo::access_records(&node, &caller.0, &filter)).await?;
    Ok(HttpResponse::Ok().json(json!({ "records": page.items, "next": page.next })))
}

pub(super) async fn create_user(
    node: web::Data<Node>,
    caller: Caller,
    body: web::Json<NewUser>,
) -> ApiResult {
    let (user, token) =
        blocking(move || admin::create_user(&node, &caller.0, body.into_inner())).await?;
    Ok(HttpResponse::Created().json(json!({
        "user": {"id": user.id, "name": user.name, "role": user.role, "agency": user.agency_id},
        "token": token,
    })))
}

pub(super) async fn create_agency(
    node: web::Data<Node>,
    caller: Caller,
    body: web::Json<NewAgency>,
) -> ApiResult {
    let (id, receipt) =
        blocking(move || admin::create_agency(&node, &caller.0, body.into_inner())).await?;
    Ok(created("agency", json!({"id": id}), receipt))
}

#[derive(Deserialize)]
pub(super) struct RetentionQuery {
    dry_run: Option<bool>,
    /// Go on from the `next` of an earlier run.
    after: Option<String>,
    /// At most this many records (at most `dpo::RETENTION_MAX`).
    max: Option<u64>,
}

pub(super) async fn run_retention(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<RetentionQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let dry_run = q.dry_run.unwrap_or(false);
    let report = blocking(move || {
        dpo::run_retention(&node, Some(&caller.0), dry_run, q.after.as_deref(), q.max)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
pub(super) struct DpoQuery {
    state: Option<String>,
}

pub(super) async fn dpo_report(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<DpoQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let report = blocking(move || dpo::report(&node, Some(&caller.0), q.state.as_deref())).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
pub(super) struct TransfersQuery {
    state: Option<String>,
    after: Option<u64>,
}

pub(super) async fn dpo_transfers(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<TransfersQuery>,
) -> ApiResult {
    let q = q.into_inner();
    let page =
        blocking(move || dpo::transfers(&node, Some(&caller.0), q.state.as_deref(), q.after))
            .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize)]
pub(super) struct ErasureBody {
    legal_reason: String,
}

pub(super) async fn erase_vault_record(
    node: web::Data<Node>,
    caller: Caller,
    record: web::Path<String>,
    body: web::Json<ErasureBody>,
) -> ApiResult {
    let (erasure, receipt) =
        blocking(move || dpo::erase(&node, &caller.0, &record, &body.legal_reason)).await?;
    Ok(created("erasure", erasure, receipt))
}

pub(super) async fn register_evidence(
    node: web::Data<Node>,
    caller: Caller,
    case_id: web::Path<String>,
    body: web::Json<NewEvidence>,
) -> ApiResult {
    let (item, receipt) =
        blocking(move || evidence::register(&node, &caller.0, &case_id, body.into_inner())).await?;
    Ok(created("evidence", item, receipt))
}

pub(super) async fn get_evidence(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<PurposeQuery>,
) -> ApiResult {
    let purpose = purpose_of(q.purpose.as_deref())?;
    let item = blocking(move || evidence::read(&node, &caller.0, &id, purpose)).await?;
    Ok(HttpResponse::Ok().json(item))
}

#[derive(Deserialize)]
pub(super) struct EvidenceQuery {
    sha256: String,
    after: Option<u64>,
}

pub(super) async fn find_evidence(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<EvidenceQuery>,
) -> ApiResult {
    let page = blocking(move || evidence::by_sha256(&node, &caller.0, &q.sha256, q.after)).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub(super) async fn record_event(
    node: web::Data<Node>,
    caller: Caller,
    item_id: web::Path<String>,
    body: web::Json<NewCustodyEvent>,
) -> ApiResult {
    // The checks and the sealing run on a blocking thread; the wait for the durable batch holds
    // none, so requests in flight cost the sequencer's wake-up of this worker, not a thread each.
    let submitted =
        blocking(move || custody::submit(&node, &caller.0, &item_id, body.into_inner())).await?;
    let (event, receipt) = submitted.recorded().await?;
    Ok(created("event", event, receipt))
}

pub(super) async fn checkpoint(
    node: web::Data<Node>,
    published: web::Data<Option<super::peers::Published>>,
    caller: Caller,
) -> ApiResult {
    let cosigned = published.as_ref().as_ref().is_some_and(|p| p.cosigned);
    let note = blocking(move || {
        if cosigned {
            log::cosigned_checkpoint(&node, &caller.0)
        } else {
            log::checkpoint(&node, &caller.0)
        }
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(note))
}

pub(super) async fn entry(node: web::Data<Node>, caller: Caller, seq: web::Path<u64>) -> ApiResult {
    let body = blocking(move || log::entry(&node, &caller.0, *seq)).await?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

#[derive(Deserialize)]
pub(super) struct InclusionQuery {
    seq: u64,
    size: u64,
}

pub(super) async fn inclusion(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<InclusionQuery>,
) -> ApiResult {
    let proof = blocking(move || log::inclusion_proof(&node, &caller.0, q.seq, q.size)).await?;
    Ok(HttpResponse::Ok().json(proof))
}

/// `GET /log/receipt/{seq}`: the entry's receipt upgraded to the newest cosigned checkpoint.
pub(super) async fn cosigned_receipt(
    node: web::Data<Node>,
    caller: Caller,
    seq: web::Path<u64>,
) -> ApiResult {
    let receipt = blocking(move || log::cosigned_receipt(&node, &caller.0, *seq)).await?;
    Ok(HttpResponse::Ok().json(receipt))
}

#[derive(Deserialize)]
pub(super) struct ConsistencyQuery {
    from: u64,
    to: u64,
}

pub(super) async fn consistency(
    node: web::Data<Node>,
    caller: Caller,
    q: web::Query<ConsistencyQuery>,
) -> ApiResult {
    let proof = blocking(move || log::consistency_proof(&node, &caller.0, q.from, q.to)).await?;
    Ok(HttpResponse::Ok().json(proof))
}

/// `GET /healthz`: 200 with the log's sizes, or 503 naming what stops the node (an fsync
/// failure, a stopped sequencer, a database that does not answer).
pub(super) async fn healthz(node: web::Data<Node>) -> ApiResult {
    let health = blocking(move || Ok(log::health(&node))).await?;
    Ok(match health.problem {
        None => HttpResponse::Ok().json(json!({ "status": "ok", "log_size": health.log_size, "durable_size": health.durable_size })),
        Some(problem) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "failing",
            "log_size": health.log_size,
            "durable_size": health.durable_size,
            "error": crate::public_error::unhealthy(problem),
        })),
    })
}

/// `GET /readyz`: for a load balancer, 200 when the node takes requests, 503 (with the reason)
/// when it does not; no figures.
pub(super) async fn readyz(node: web::Data<Node>) -> ApiResult {
    let health = blocking(move || Ok(log::health(&node))).await?;
    Ok(match health.problem {
        None => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Some(problem) => HttpResponse::ServiceUnavailable().json(
            json!({ "status": "not_ready", "error": crate::public_error::unhealthy(problem) }),
        ),
    })
}

pub(super) async fn disable_user(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult {
    let ended = blocking(move || accounts::set_disabled(&node, Some(&caller.0), &id, true)).await?;
    Ok(HttpResponse::Ok().json(
        json!({"disabled": true, "tokens_revoked": ended.tokens, "sessions_ended": ended.sessions}),
    ))
}

pub(super) async fn enable_user(
    node: web::Data<Node>,
    caller: Caller,
    id: web::Path<String>,
) -> ApiResult {
    blocking(move || accounts::set_disabled(&node, Some(&caller.0), &id, false)).await?;
    Ok(HttpResponse::Ok().json(json!({"disabled": false})))
}
