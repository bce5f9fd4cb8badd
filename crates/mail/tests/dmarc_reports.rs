//! DMARC aggregate reports sent to a tenant's `rua=` address over SMTP: each reported row
//! becomes a `mail.dmarc_report` event of that tenant, a mail without a readable report is
//! recorded as such, and both are delivered like any mail.

mod support;

use std::io::Write as _;

use base64::Engine as _;
use support::{Client, RelaySetup};

const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata><org_name>receiver.example</org_name><email>dmarc@receiver.example</email>
    <report_id>r-77</report_id><date_range><begin>1763683200</begin><end>1763769599</end></date_range></report_metadata>
  <policy_published><domain>a.example.jp</domain><p>reject</p></policy_published>
  <record><row><source_ip>203.0.113.9</source_ip><count>42</count>
    <policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>a.example.jp</header_from></identifiers>
    <auth_results><spf><domain>forged.example</domain><result>pass</result></spf></auth_results></record>
  <record><row><source_ip>2001:db8::25</source_ip><count>3</count>
    <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>a.example.jp</header_from></identifiers>
    <auth_results><dkim><domain>a.example.jp</domain><selector>s1</selector><result>pass</result></dkim></auth_results></record>
</feedback>"#;

/// A report mail as receivers send them: the XML gzipped in a base64 attachment.
fn report_mail() -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(REPORT.as_bytes()).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "From: dmarc@receiver.example\r\nTo: dmarc@a.example.jp\r\nSubject: Report Domain: a.example.jp Submitter: receiver.example Report-ID: r-77\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         DMARC aggregate report.\r\n--b\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"receiver.example!a.example.jp!1763683200!1763769599.xml.gz\"\r\n\r\n{}\r\n--b--",
        lines.join("\r\n")
    )
}

#[tokio::test]
async fn aggregate_reports_to_a_tenant_become_its_events() {
    let mut setup = RelaySetup::two_tenants("127.0.0.1:9");
    setup.mail.max_message_bytes = 1 << 20;
    setup.mail.tenants.get_mut("a").unwrap().dmarc_report_addresses = vec!["DMARC@a.example.jp".into()];
    let relay = setup.start().await;
    let mut c = Client::connect(relay.addr).await;
    c.cmd("EHLO mx.receiver.example").await;
    assert!(c.mail("dmarc@receiver.example", &["dmarc@a.example.jp"], &report_mail()).await.starts_with("250"));
    let junk = "From: x@receiver.example\r\nSubject: not a report\r\n\r\nhello\r\n";
    assert!(c.mail("x@receiver.example", &["dmarc@a.example.jp"], junk).await.starts_with("250"));
    // Mail to other addresses of the tenant is not read as a report.
    assert!(c.mail("x@receiver.example", &["user@a.example.jp"], junk).await.starts_with("250"));
    assert_eq!(relay.ctx.queue.ids().unwrap().len(), 3, "reports are delivered like any mail");

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = relay.events.json();
    let rows: Vec<_> = events
        .iter()
        .filter(|e| e["event"]["dataset"] == "mail.dmarc_report" && e["event"]["action"] == "dmarc_report")
        .collect();
    assert_eq!(rows.len(), 2, "{events:#?}");
    assert!(rows.iter().all(|e| e["organization"]["id"] == "a"));
    assert_eq!(rows[0]["source"]["ip"], "203.0.113.9");
    assert_eq!(rows[0]["event"]["outcome"], "failure");
    assert_eq!(rows[0]["mamori"]["dmarc_report"]["count"], 42);
    assert_eq!(rows[0]["mamori"]["dmarc_report"]["report_id"], "r-77");
    assert_eq!(rows[1]["source"]["ip"], "2001:db8::25");
    assert_eq!(rows[1]["event"]["outcome"], "success");
    let invalid: Vec<_> = events.iter().filter(|e| e["event"]["action"] == "dmarc_report_invalid").collect();
    assert_eq!(invalid.len(), 1, "{events:#?}");
    assert!(invalid[0]["message"].as_str().unwrap().contains("not a DMARC aggregate report"), "{:?}", invalid[0]);
}
