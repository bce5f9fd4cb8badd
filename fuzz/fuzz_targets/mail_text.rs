//! The relay's MIME reading of a message from anyone: the spam filter's text extraction
//! (charset sniffing, transfer decoding, HTML, links), subject tagging and the header facts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = mamori_mail::spam::text::extract(data);
    for url in &text.urls {
        let _ = mamori_mail::spam::text::url_host(url);
    }
    let _ = mamori_mail::message::facts(data);
    let tagged = mamori_mail::content::tag::tag_subject(data, "【要注意】");
    assert!(tagged.len() >= data.len());
});
