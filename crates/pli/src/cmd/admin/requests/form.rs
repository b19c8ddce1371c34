//! A lawful request as typed on the command line, checked before anything is sent.

use pli_proto::governance::{DataCategory, LegalBasis, NewRequest};

#[derive(clap::Args, Clone)]
pub(crate) struct RequestFields {
    #[arg(long)]
    authority: String,
    #[arg(long)]
    country: String,
    #[arg(long, value_parser = parse_basis)]
    basis: LegalBasis,
    #[arg(long)]
    doc_ref: String,
    #[arg(long)]
    doc_sha256: String,
    /// A target account; repeat for several.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// Data categories, comma-separated: subscriber, devices, ip.
    #[arg(long = "data", required = true, value_delimiter = ',')]
    categories: Vec<String>,
    #[arg(long)]
    nondisclosure_until: Option<String>,
    /// For emergencies: the attested imminent threat.
    #[arg(long)]
    attest: Option<String>,
    #[arg(long)]
    due: Option<String>,
}

fn parse_basis(text: &str) -> Result<LegalBasis, String> {
    LegalBasis::parse(text).ok_or_else(|| {
        "one of subpoena, court-order, search-warrant, emergency, preservation, mlat".into()
    })
}

impl RequestFields {
    pub(super) fn into_request(self) -> anyhow::Result<NewRequest> {
        let categories = self
            .categories
            .iter()
            .map(|c| match (c.as_str(), DataCategory::parse(c)) {
                (_, Some(category)) => Ok(category),
                ("content", None) => anyhow::bail!(
                    "content is not a data category: messages are end-to-end encrypted and the server holds none it can read"
                ),
                (other, None) => anyhow::bail!("unknown data category {other:?} (subscriber, devices, ip)"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(NewRequest {
            authority: self.authority,
            country: self.country,
            basis: self.basis,
            doc_ref: self.doc_ref,
            doc_sha256: self.doc_sha256,
            targets: self
                .targets
                .iter()
                .map(|t| crate::context::username(t))
                .collect::<anyhow::Result<_>>()?,
            categories,
            nondisclosure_until: self.nondisclosure_until,
            attestation: self.attest,
            due: self.due,
        })
    }
}
