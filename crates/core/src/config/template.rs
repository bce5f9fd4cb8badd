//! The commented configuration `mamori init` writes.

/// An example configuration with two demo tenants; every listener on 127.0.0.1.
pub fn example_config() -> &'static str {
    EXAMPLE
}

const EXAMPLE: &str = r#"# mamori — 自治体情報セキュリティクラウド
#
# This file configures one mamori for all member municipalities (tenants) of a prefecture.
# Check it with:   mamori check-config --config mamori.toml
# Apply changes to a running mamori with:   mamori reload --config mamori.toml
# Every change to tenants, log senders or retention becomes a numbered revision:
#   mamori config history / mamori config diff A B / mamori config rollback N --reason "..."

[mamori]
# Everything mamori stores lives here (relative to this file).
data_dir = "data"
# Zone for log timestamps that carry none (RFC 3164 syslog).
timezone = "Asia/Tokyo"
name = "デモ県 自治体情報セキュリティクラウド"

[api]
# REST API (and the console): http://127.0.0.1:8400/api/v1/openapi.json
listen = "127.0.0.1:8400"
# tls_cert = "certs/api.crt"
# tls_key = "certs/api.key"

[collect.syslog]
# RFC 5424 and RFC 3164 syslog. Leave a listener out to not start it.
udp = "127.0.0.1:5514"
tcp = "127.0.0.1:5514"
# Syslog over TLS (RFC 5425). Without tls_cert/tls_key a self-signed certificate is made in
# the data directory at first start.
tls = "127.0.0.1:6514"
# Longer messages are truncated and flagged.
max_message_bytes = 65536

# Log senders that sit outside their tenant's networks. Anything else that is in no tenant's
# networks lands in the 'unassigned' bucket and raises an alarm.
[[collect.senders]]
# Demo: logs sent from this machine count as みどり市's, so the quick start shows attribution.
network = "127.0.0.1/32"
tenant = "midori"
description = "this machine (demo)"

[logs]
# Days events stay in the searchable index, and years in the compressed, hash-chained archive.
hot_days = 90
archive_years = 5
# The requirement is at least 5 years of logs; set this to allow a shorter archive_years.
# allow_archive_below_5_years = false
# Receivers push back (HTTP 507, TCP pause) when free space falls below this.
min_free_disk_mb = 256

[proxy]
# The forward web proxy every municipal PC browses through (curl -x http://127.0.0.1:3128 ...).
# Leave listen out to not start it.
listen = "127.0.0.1:3128"
# Sources in no tenant's networks get the common policy when true, a block page otherwise.
# true here so that the demo works from this machine; keep it false in production.
allow_unassigned = true
# A client must send its request headers within this many seconds (slowloris).
header_timeout_secs = 10
# Larger uploads get 413 (bytes).
max_request_body_bytes = 104857600
# Bodies are held back for the malware scan up to this size (bytes); what is larger passes or
# is refused by the tenant's scan_failure.
scan_max_bytes = 33554432
# A DNS server for origins' names; the system resolver when left out.
# resolver = "192.0.2.53:53"
# Plain-HTTP origins (hosts with their subdomains, optionally :port) spoken to in HTTP/2 with
# prior knowledge (h2c); HTTPS origins offer HTTP/2 themselves.
# h2c_origins = ["app.internal.example.jp:8080"]
# TLS inspection (tls_inspect under [web]): more CA certificates trusted for origins besides the
# public roots (a private PKI), host certificates kept, and how long a host whose terminal
# rejected the mamori CA (certificate pinning) is tunnelled without decryption.
# tls_extra_ca = "certs/internal-ca.pem"
tls_leaf_cache = 1000
tls_pin_bypass_minutes = 60

[edge]
# The reverse proxy with the WAF in front of the municipalities' web sites. It starts when at
# least one [[edge.sites]] is configured. Listen addresses change only with a restart; sites,
# rulesets and certificates are re-read by `mamori reload`. HTTPS starts when a site has a
# certificate.
http = "127.0.0.1:8080"
https = "127.0.0.1:8443"
# Larger request bodies get 413 (bytes).
max_request_body_bytes = 10485760
# Response bodies are inspected by the WAF up to this size (bytes); the rest passes unchecked.
max_inspected_response_bytes = 524288
# An origin must answer within this many seconds (504 otherwise).
origin_timeout_secs = 60
# Origins are asked for their site's health_check_path this often; failing ones are skipped
# until they answer again.
health_check_interval_secs = 5

# SecLang rule files, e.g. the OWASP Core Rule Set (https://coreruleset.org/): setup first,
# then the rules (patterns match in one directory, sorted by name). Relative to this file.
[edge.rulesets.crs]
setup = "crs/crs-setup.conf"
rules = ["crs/rules/*.conf"]

# One block per site:
# [[edge.sites]]
# name = "midori-www"
# tenant = "midori"
# hosts = ["www.city.midori.example.jp", "city.midori.example.jp"]
# origins = ["http://10.1.0.10:80", "http://10.1.0.11:80"]
# # off, detect (log only) or block (the Japanese block page with the request id)
# waf = "block"
# ruleset = "crs"
# # CRS paranoia level 1-4: higher finds more and needs more tuning
# paranoia = 1
# # Rules removed for this site only, for false positives (SecRuleRemoveById)
# exclude_rules = [942100]
# # Clickjacking: X-Frame-Options (deny, sameorigin or off) and CSP frame-ancestors, added
# # when the origin sent none
# frame_options = "sameorigin"
# frame_ancestors = "'self'"
# # Certificate chain and key (PEM) for the hosts on the HTTPS listener, chosen by SNI
# tls_cert = "certs/www.city.midori.example.jp.crt"
# tls_key = "certs/www.city.midori.example.jp.key"
# health_check_path = "/"

# The web filter: lists for every tenant ([web.common]) and each tenant's own
# ([web.tenants.ID], added to the common ones). Entries are domains (with their subdomains),
# URL prefixes (example.jp/forum/), addresses and networks; changes become revisions.
[web]
# Categories in the squidGuard/UT1 format (one directory per category with domains, urls,
# expressions), e.g. the UT1 lists from https://dsi.ut-capitole.fr/blacklists/
# categories_dir = "/var/lib/mamori/ut1/blacklists"
# Threat intelligence, blocked for everyone whatever the allow lists say (plain, hosts or csv).
# threat_feeds = [{ name = "urlhaus", path = "feeds/urlhaus.csv", format = "csv" }]

[web.common]
block = ["blocked.example"]
# block_categories = ["malware", "phishing", "gambling"]
# Readable, but no posting or uploads:
# read_only_categories = ["forums", "social_networks"]
helpdesk = "デモ県 セキュリティクラウド運用窓口"
# TLS inspection: decrypt HTTPS to filter full URLs and scan downloads. Terminals must trust
# the mamori CA first: `mamori ca export [--tenant ID] > mamori-ca.pem`. Hosts that need a
# client certificate or whose terminal rejects the CA are tunnelled automatically (and logged).
# tls_inspect = true
# Never decrypted: by domain, and by category (needs categories_dir).
# tls_bypass_domains = ["bank.example.jp"]
# tls_bypass_categories = ["bank", "medical", "government"]
# Malware scanning of downloads (on when the scan service runs) and uploads; what cannot be
# scanned (too large, engine error) or is only suspicious (a name that lies about the content)
# passes with "open" or is refused with "closed". Malware is always refused.
# scan_downloads = true
# scan_uploads = false
# scan_failure = "open"

[web.tenants.aoba]
# あおば町 lets its office PCs reach only these sites.
allow = ["town.aoba.example.jp", "www.e-gov.go.jp"]
allow_only = true
# あおば町 decrypts HTTPS with a CA of its own (mamori ca export --tenant aoba).
# tls_inspect = true
# tls_own_ca = true
[mail]
# The SMTP relay (RFC 5321 with STARTTLS, PIPELINING, 8BITMIME, SMTPUTF8, SIZE, CHUNKING).
# Inbound mail for a tenant's domains goes to that tenant's next hop; outbound mail is taken
# only from a tenant's networks with that tenant's domains as sender and delivered by MX.
# Everything else is refused: never an open relay. Leave listen out to not start it.
listen = "127.0.0.1:2525"
hostname = "mail.pref.example.jp"
# Larger messages get 552 5.3.4 (bytes); recipients per message.
max_message_bytes = 26214400
max_recipients = 100
# Without tls_cert/tls_key a self-signed certificate is made in the data directory.
# tls_cert = "certs/mail.crt"
# tls_key = "certs/mail.key"
# The queue (relative to data_dir): a message is acknowledged only once it is on disk.
queue_dir = "mail/queue"
# Minutes between delivery attempts (the last repeats), and when a message is returned to its
# sender with a delivery status notification in Japanese and English.
retry_minutes = [5, 10, 30, 60, 120, 240]
give_up_hours = 120
# A DNS server for MX lookups and SPF; the system resolver when left out.
# resolver = "192.0.2.53:53"

[mail.tenants.midori]
# Inbound mail for each domain (and its subdomains) goes to this next hop (host[:port]).
routes = { "city.midori.example.jp" = "10.1.0.25:25" }
# Who may send outbound mail as みどり市; the tenant's networks when left out.
# sender_networks = ["10.1.0.0/24"]

[mail.tenants.aoba]
routes = { "town.aoba.example.jp" = "mail.town.aoba.example.jp" }

[scan]
# Malware scanning. Uncomment icap to let a proxy use mamori as its virus scanner, e.g. Squid:
#   icap_service mamori_resp respmod_precache icap://127.0.0.1:1344/respmod bypass=off
# icap = "127.0.0.1:1344"
# ClamAV databases (daily.cvd, *.ndb, ...) and YARA rules; changes are picked up while running.
# clamav_db = ["/var/lib/clamav"]
# rules = ["rules/yara"]
# A signature source released longer ago than this raises an alarm (requirement: 1 day).
max_signature_age_hours = 24

[detect]
# Sigma rules evaluated on every event the log store accepts; matches are stored as alerts
# (event.kind: alert, event.dataset: detect.alert) in the tenant of the event that matched.
# Windows events (winlog.*) are mapped as in SigmaHQ's thor.yml; proxy, dns, webserver and
# firewall rules read mamori's own events. Files or directories, relative to this file.
# rules = ["sigma/rules/windows"]
enabled = true

[[tenants]]
id = "midori"
name_ja = "みどり市"
name_en = "Midori City"
# α, α', β or β' (written alpha, alpha-prime, beta, beta-prime)
network_model = "beta"
networks = ["10.1.0.0/16", "fd00:1::/48"]
domains = ["city.midori.example.jp"]

[[tenants.contacts]]
name = "情報政策課 ヘルプデスク"
role = "helpdesk"
email = "helpdesk@city.midori.example.jp"
phone = "000-000-0001"

[[tenants]]
id = "aoba"
name_ja = "あおば町"
name_en = "Aoba Town"
network_model = "alpha-prime"
networks = ["10.2.0.0/16", "fd00:2::/48"]
domains = ["town.aoba.example.jp"]

[tenants.retention]
# あおば町 keeps its logs searchable for 30 days and archived for 7 years.
hot_days = 30
archive_years = 7

[[tenants.contacts]]
name = "総務課"
role = "helpdesk"
email = "soumu@town.aoba.example.jp"
"#;
