//! The ACME client Lectern orders certificates with: the app's
//! `CertificateIssuer` seam implemented with instant-acme (HTTP-01 only;
//! keys and CSRs by rcgen through instant-acme, `ring` underneath).
//!
//! The account is created once per directory and kept in the database
//! (through `AcmeBoard`), and so are the HTTP-01 answers, so the node the
//! CA happens to reach answers even when another node placed the order.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use lectern_app::tls::{AcmeBoard, CertificateIssuer, IssuedCertificate};

/// Longest one order may take, from account to certificate.
const ORDER_DEADLINE: Duration = Duration::from_secs(300);
/// How long the CA gets to validate the challenges, and to sign.
const VALIDATION_WAIT: Duration = Duration::from_secs(120);

/// Orders certificates from one ACME directory.
pub struct AcmeIssuer {
    pub directory: String,
    /// `mailto:` is added.
    pub contact_email: Option<String>,
    /// A CA to trust for the directory's own HTTPS (a test CA).
    pub ca_file: Option<PathBuf>,
}

#[async_trait]
impl CertificateIssuer for AcmeIssuer {
    async fn issue(
        &self,
        hosts: &[String],
        board: &AcmeBoard<'_>,
    ) -> Result<IssuedCertificate, String> {
        match tokio::time::timeout(ORDER_DEADLINE, self.order(hosts, board)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "the order did not finish within {} seconds",
                ORDER_DEADLINE.as_secs()
            )),
        }
    }
}

impl AcmeIssuer {
    async fn account(&self, board: &AcmeBoard<'_>) -> Result<Account, String> {
        let builder = match &self.ca_file {
            Some(path) => Account::builder_with_root(path)
                .map_err(|e| format!("reading the ACME CA file {}: {e}", path.display()))?,
            None => Account::builder().map_err(|e| format!("the HTTPS client for ACME: {e}"))?,
        };
        let stored = board
            .account(&self.directory)
            .await
            .map_err(|e| format!("reading the ACME account: {e}"))?;
        if let Some(json) = stored {
            let credentials: AccountCredentials = serde_json::from_str(&json)
                .map_err(|e| format!("the stored ACME account is unreadable: {e}"))?;
            return builder
                .from_credentials(credentials)
                .await
                .map_err(|e| format!("the ACME directory {}: {e}", self.directory));
        }
        let contact = self.contact_email.as_ref().map(|e| format!("mailto:{e}"));
        let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.directory.clone(),
                None,
            )
            .await
            .map_err(|e| format!("creating an account at {}: {e}", self.directory))?;
        let json = serde_json::to_string(&credentials)
            .map_err(|e| format!("keeping the ACME account: {e}"))?;
        board
            .save_account(&self.directory, &json)
            .await
            .map_err(|e| format!("keeping the ACME account: {e}"))?;
        tracing::info!(directory = %self.directory, "ACME account created");
        Ok(account)
    }

    async fn order(
        &self,
        hosts: &[String],
        board: &AcmeBoard<'_>,
    ) -> Result<IssuedCertificate, String> {
        let account = self.account(board).await?;
        let identifiers: Vec<Identifier> =
            hosts.iter().map(|h| Identifier::Dns(h.clone())).collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(|e| format!("placing the order: {e}"))?;
        let mut tokens = Vec::new();
        let published = publish_challenges(&mut order, board, &mut tokens).await;
        let ready = match published {
            Ok(()) => order
                .poll_ready(&waiting())
                .await
                .map_err(|e| format!("waiting for the CA to validate: {e}")),
            Err(e) => Err(e),
        };
        for token in &tokens {
            if let Err(e) = board.withdraw(token).await {
                tracing::warn!(error = %e, "removing a challenge answer failed; it expires by itself");
            }
        }
        match ready? {
            OrderStatus::Ready => {}
            status => {
                let why = failed_challenges(&mut order).await;
                return Err(format!("the CA refused the order ({status:?}): {why}"));
            }
        }
        let key_pem = order
            .finalize()
            .await
            .map_err(|e| format!("finalizing the order: {e}"))?;
        let chain = order
            .poll_certificate(&waiting())
            .await
            .map_err(|e| format!("fetching the certificate: {e}"))?;
        let facts = lectern_web::tls::leaf_facts(&chain)?;
        lectern_web::tls::certified_key(&chain, &key_pem)?;
        Ok(IssuedCertificate {
            cert_pem: chain,
            key_pem,
            not_after: facts.not_after,
            serial: facts.serial,
        })
    }
}

fn waiting() -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(VALIDATION_WAIT)
}

/// Publishes the HTTP-01 answer of every pending authorization and tells
/// the CA to check it; `tokens` collects what was published, to withdraw.
async fn publish_challenges(
    order: &mut instant_acme::Order,
    board: &AcmeBoard<'_>,
    tokens: &mut Vec<String>,
) -> Result<(), String> {
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization =
            authorization.map_err(|e| format!("reading an authorization: {e}"))?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(format!(
                    "an authorization for {} is {other:?}",
                    authorization.identifier()
                ))
            }
        }
        let name = authorization.identifier().to_string();
        let mut challenge = authorization
            .challenge(ChallengeType::Http01)
            .ok_or_else(|| format!("the CA offers no HTTP-01 challenge for {name}"))?;
        let token = challenge.token.clone();
        board
            .publish(&token, challenge.key_authorization().as_str())
            .await
            .map_err(|e| format!("publishing the challenge answer: {e}"))?;
        tokens.push(token);
        challenge
            .set_ready()
            .await
            .map_err(|e| format!("asking the CA to validate {name}: {e}"))?;
    }
    Ok(())
}

/// Why the CA said no: each failed challenge's problem, by host.
async fn failed_challenges(order: &mut instant_acme::Order) -> String {
    let mut reasons = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authorization)) = authorizations.next().await {
        let Ok(state) = authorization.refresh().await else {
            continue;
        };
        let name = state.identifier().to_string();
        for challenge in &state.challenges {
            if let Some(problem) = &challenge.error {
                reasons.push(format!("{name}: {problem}"));
            }
        }
    }
    if reasons.is_empty() {
        "no reason given".into()
    } else {
        reasons.join("; ")
    }
}
