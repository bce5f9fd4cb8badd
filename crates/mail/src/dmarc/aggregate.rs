//! DMARC aggregate reports (RFC 7489 §7.2, Appendix C) that receivers around the world send to
//! the `rua=` address of a tenant's DMARC record. Each reported row — a sending address, how many
//! messages it sent in the municipality's name and how they fared — becomes one
//! `mail.dmarc_report` event, so the SOC sees who sends as the municipality and whether forged
//! mail is being refused. mail-auth parses the report (XML, gzip or zip; attached to a mail or
//! alone).

use mail_auth::report::{ActionDisposition, Disposition, DkimResult, DmarcResult, Report, SpfResult};
use mamori_core::event::{Endpoint, Event, UNASSIGNED};
use serde_json::json;

/// The largest report accepted once decompressed: a bound for gzip and zip bombs.
pub const MAX_REPORT_BYTES: usize = 64 << 20;

/// The report in a mail (RFC 7489 §7.2.1.1: an `xml`, `gzip` or `zip` part).
pub fn parse_mail(raw: &[u8]) -> Result<Report, String> {
    use mail_auth::report::Error;
    Report::parse_rfc5322(raw, MAX_REPORT_BYTES).map_err(|e| {
        let why = match e {
            Error::MailParseError => "the mail cannot be parsed".to_string(),
            Error::ReportParseError(e) => format!("the report's XML: {e}"),
            Error::UncompressError(e) => format!("the attachment does not decompress: {e}"),
            Error::ReportTooLarge => format!("the report is larger than {MAX_REPORT_BYTES} bytes"),
            Error::NoReportsFound => "no xml, gzip or zip part".to_string(),
        };
        format!("not a DMARC aggregate report mail: {why}")
    })
}

/// A report on its own: XML, or XML compressed with gzip.
pub fn parse_file(bytes: &[u8]) -> Result<Report, String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read as _;
        let mut xml = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(MAX_REPORT_BYTES as u64 + 1)
            .read_to_end(&mut xml)
            .map_err(|e| format!("not a gzip file: {e}"))?;
        if xml.len() > MAX_REPORT_BYTES {
            return Err(format!("report larger than {MAX_REPORT_BYTES} bytes once decompressed"));
        }
        return Report::parse_xml(&xml).map_err(|e| format!("not a DMARC aggregate report: {e}"));
    }
    Report::parse_xml(bytes).map_err(|e| format!("not a DMARC aggregate report: {e}"))
}

fn disposition(d: Disposition) -> &'static str {
    match d {
        Disposition::None => "none",
        Disposition::Quarantine => "quarantine",
        Disposition::Reject => "reject",
        Disposition::Unspecified => "unspecified",
    }
}

fn action(d: ActionDisposition) -> &'static str {
    match d {
        ActionDisposition::None => "none",
        ActionDisposition::Pass => "pass",
        ActionDisposition::Quarantine => "quarantine",
        ActionDisposition::Reject => "reject",
        ActionDisposition::Unspecified => "unspecified",
    }
}

fn verdict(r: DmarcResult) -> &'static str {
    match r {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail => "fail",
        DmarcResult::Unspecified => "unspecified",
    }
}

fn dkim(r: DkimResult) -> &'static str {
    match r {
        DkimResult::None => "none",
        DkimResult::Pass => "pass",
        DkimResult::Fail => "fail",
        DkimResult::Policy => "policy",
        DkimResult::Neutral => "neutral",
        DkimResult::TempError => "temperror",
        DkimResult::PermError => "permerror",
    }
}

fn spf(r: SpfResult) -> &'static str {
    match r {
        SpfResult::None => "none",
        SpfResult::Neutral => "neutral",
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
    }
}

fn timestamp(unix: u64) -> Option<String> {
    let secs = i64::try_from(unix).ok()?;
    jiff::Timestamp::from_second(secs).ok().map(|t| t.to_string())
}

/// Reads the report in a mail to one of `tenant`'s report addresses and records its rows as
/// events; a mail that holds no readable report is recorded as such (and still delivered).
pub async fn receive(ctx: &crate::MailContext, tenant: Option<&str>, text: &[u8]) {
    let raw = text.to_vec();
    // Decompressing and parsing is CPU work: off the session's thread.
    let parsed = tokio::task::spawn_blocking(move || parse_mail(&raw))
        .await
        .unwrap_or_else(|e| Err(format!("the report reader stopped: {e}")));
    match parsed {
        Ok(report) => {
            ctx.metrics.dmarc_report("read");
            for event in events(&report, tenant) {
                ctx.log.record(event).await;
            }
        }
        Err(e) => {
            ctx.metrics.dmarc_report("invalid");
            let facts = crate::events::MailFacts { tenant, ..Default::default() };
            let event = crate::events::mail_event("mail.dmarc_report", "dmarc_report_invalid", "failure", e, &facts);
            ctx.log.record(event).await;
        }
    }
}

/// One event per reported row, for `tenant`.
pub fn events(report: &Report, tenant: Option<&str>) -> Vec<Event> {
    let now = jiff::Timestamp::now();
    let (begin, end) = (timestamp(report.date_range_begin()), timestamp(report.date_range_end()));
    report
        .records()
        .iter()
        .map(|row| {
            let mut event = Event::new(now, "mail.dmarc_report");
            event.stamp_ingestion(now);
            let dkim_ok = row.dmarc_dkim_result() == DmarcResult::Pass;
            let spf_ok = row.dmarc_spf_result() == DmarcResult::Pass;
            let passed = dkim_ok || spf_ok;
            event.message = Some(format!(
                "{} reports {} message(s) from {} as {}: DMARC {}, {}",
                report.org_name(),
                row.count(),
                row.source_ip().map_or_else(|| "an unknown address".to_string(), |ip| ip.to_string()),
                row.header_from(),
                if passed { "pass" } else { "fail" },
                action(row.action_disposition()),
            ));
            let e = &mut event.event;
            e.kind = Some("event".into());
            e.category = vec!["email".into()];
            e.type_ = vec!["info".into()];
            e.action = Some("dmarc_report".into());
            e.outcome = Some(if passed { "success" } else { "failure" }.into());
            e.module = Some("mail".into());
            e.created = Some(now);
            if let Some(b) = &begin {
                e.extra.insert("start".into(), json!(b));
            }
            if let Some(t) = &end {
                e.extra.insert("end".into(), json!(t));
            }
            event.organization.id = Some(tenant.unwrap_or(UNASSIGNED).to_string());
            if let Some(ip) = row.source_ip() {
                event.source = Some(Endpoint { ip: Some(ip), ..Default::default() });
            }
            let mut email = serde_json::Map::new();
            email.insert("from".into(), json!({ "address": [row.header_from()] }));
            if !row.envelope_from().is_empty() {
                email.insert("sender".into(), json!({ "address": row.envelope_from() }));
            }
            event.extra.insert("email".into(), serde_json::Value::Object(email));
            let dkim_results: Vec<_> = row
                .dkim_auth_result()
                .iter()
                .map(|d| json!({ "domain": d.domain(), "selector": d.selector(), "result": dkim(d.result()) }))
                .collect();
            let spf_results: Vec<_> = row
                .spf_auth_result()
                .iter()
                .map(|s| json!({ "domain": s.domain(), "result": spf(s.result()) }))
                .collect();
            event.extra.insert(
                "mamori".into(),
                json!({ "dmarc_report": {
                    "reporter": report.org_name(),
                    "reporter_email": report.email(),
                    "report_id": report.report_id(),
                    "domain": report.domain(),
                    "policy": disposition(report.p()),
                    "subdomain_policy": disposition(report.sp()),
                    "count": row.count(),
                    "disposition": action(row.action_disposition()),
                    "dkim": verdict(row.dmarc_dkim_result()),
                    "spf": verdict(row.dmarc_spf_result()),
                    "dkim_results": dkim_results,
                    "spf_results": spf_results,
                }}),
            );
            event
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>receiver.example</org_name>
    <email>noreply-dmarc@receiver.example</email>
    <report_id>r-1</report_id>
    <date_range><begin>1763683200</begin><end>1763769599</end></date_range>
  </report_metadata>
  <policy_published><domain>city.midori.lg.jp</domain><p>reject</p><sp>quarantine</sp></policy_published>
  <record>
    <row><source_ip>203.0.113.9</source_ip><count>42</count>
      <policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>city.midori.lg.jp</header_from><envelope_from>forged.example</envelope_from></identifiers>
    <auth_results><spf><domain>forged.example</domain><result>pass</result></spf></auth_results>
  </record>
  <record>
    <row><source_ip>192.0.2.25</source_ip><count>7</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>city.midori.lg.jp</header_from></identifiers>
    <auth_results><dkim><domain>city.midori.lg.jp</domain><selector>s1</selector><result>pass</result></dkim></auth_results>
  </record>
</feedback>"#;

    #[test]
    fn each_row_is_an_event_of_the_tenant() {
        let report = parse_file(REPORT.as_bytes()).unwrap();
        let events: Vec<serde_json::Value> =
            events(&report, Some("midori")).iter().map(|e| serde_json::to_value(e).unwrap()).collect();
        assert_eq!(events.len(), 2);
        let forged = &events[0];
        assert_eq!(forged["organization"]["id"], "midori");
        assert_eq!(forged["event"]["dataset"], "mail.dmarc_report");
        assert_eq!(forged["event"]["outcome"], "failure");
        assert_eq!(forged["event"]["start"], "2025-11-21T00:00:00Z");
        assert_eq!(forged["source"]["ip"], "203.0.113.9");
        let r = &forged["mamori"]["dmarc_report"];
        assert_eq!((r["count"].as_u64(), r["disposition"].as_str()), (Some(42), Some("reject")));
        assert_eq!((r["reporter"].as_str(), r["policy"].as_str()), (Some("receiver.example"), Some("reject")));
        assert_eq!(r["spf_results"][0]["domain"], "forged.example");
        assert_eq!(forged["email"]["sender"]["address"], "forged.example");
        assert_eq!(events[1]["event"]["outcome"], "success");
        assert_eq!(events[1]["mamori"]["dmarc_report"]["dkim_results"][0]["selector"], "s1");
    }

    #[test]
    fn gzip_reports_and_bad_input() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(REPORT.as_bytes()).unwrap();
        assert_eq!(parse_file(&gz.finish().unwrap()).unwrap().records().len(), 2);
        assert!(
            parse_file(b"<feedback><record>").is_err()
                || parse_file(b"<feedback><record>").unwrap().records().is_empty()
        );
        assert!(parse_file(&[0x1f, 0x8b, 0, 1, 2]).unwrap_err().contains("gzip"));
        assert!(
            parse_mail(b"Subject: hi\r\n\r\nno report here\r\n").unwrap_err().contains("not a DMARC aggregate report")
        );
    }
}
