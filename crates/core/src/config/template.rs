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
# # For https:// origins: the CA (PEM) their certificates chain to; the system's roots when absent
# # origin_ca = "certs/midori-origin-ca.pem"
# # off, detect (log only) or block (the Japanese block page with the request id)
# waf = "block"
# ruleset = "crs"
# # CRS paranoia level 1-4: higher finds more and needs more tuning
# paranoia = 1
# # Rules removed for this site only, for false positives (SecRuleRemoveById): ids or ranges
# exclude_rules = [942100, "920000-920099"]
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
[dns]
# Authoritative answers for the tenants' zones and a recursive resolver for tenant networks
# only (everyone else gets REFUSED: never an open resolver), with response policy zones (RPZ)
# and every query in the log store (event.dataset dns.query). UDP and TCP on each address;
# port 53 in production. Leave listen out to not start it. Zones and policy zones are re-read
# on `mamori reload`; a zone with an error keeps its previous version.
listen = "127.0.0.1:1053"
# also_listen = ["[::1]:1053"]
# Larger UDP answers are truncated (TC) and the client retries over TCP.
max_udp_payload = 1232
# TCP connections open at once; more are closed and counted (idle ones close after 10 s).
max_tcp_connections = 1024
recursion = true
# Resolve through these servers; without them mamori iterates from the root servers. A server
# may be given by host name (looked up through the resolver, the forwarders by address first).
# forwarders = ["192.0.2.53:53", "dns2.pref.example.jp"]
# forward_zones = { "lg.jp" = ["192.0.2.54:53"] }
cache_entries = 100000
# Recursive resolutions at once; when all are taken a new question replaces one that has run
# longer than 200 ms (or is dropped), so slow or silent servers cannot tie up the resolver.
max_recursive_queries = 4096
# Never cached: every question for these goes to the servers again.
# uncached_zones = ["dyn.pref.example.jp"]
# Answers carry only what the question needs (no authority section on positive answers).
minimal_responses = true
# Refresh answers asked for in the last tenth of their TTL in the background.
prefetch = false
# DNS rebinding protection: these addresses are taken out of upstream answers, except for
# names under private_domains.
# private_addresses = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"]
# private_domains = ["lan.midori.example.jp"]
# DNSSEC validation of recursive answers: validated ones get AD, forged ones SERVFAIL
# (clients that validate themselves set CD). Trust anchors are DS or DNSKEY records; the
# IANA root's keys when none are given.
dnssec_validation = false
# trust_anchors = [". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"]
# Name servers are asked over IPv4 and IPv6; on an IPv6-only host turn IPv4 off and reach
# IPv4 name servers through a NAT64 translator's prefix (RFC 6052).
# upstream_ipv4 = true
# upstream_ipv6 = true
# nat64_prefix = "64:ff9b::/96"
# Name server addresses never asked, whatever a delegation says (the host itself by default);
# configured forwarders and root hints are always asked.
# never_query = ["127.0.0.0/8", "::1/128"]

# [[dns.zones]]
# tenant = "midori"
# origin = "city.midori.example.jp"
# file = "zones/city.midori.example.jp.zone"    # RFC 1035 master file
# transfer_allow = ["192.0.2.10/32"]            # secondaries allowed AXFR/IXFR; nobody else
# transfer_keys = ["midori-xfr"]                # or anyone signing with this TSIG key
# notify = ["192.0.2.10:53"]                    # told of a new serial on reload (NOTIFY)

# [[dns.tsig_keys]]                             # TSIG (RFC 8945) for transfers; never logged
# name = "midori-xfr"
# algorithm = "hmac-sha256"
# secret = "base64 from tsig-keygen"

# [[dns.rpz]]                                   # BIND/Unbound RPZ format, in this order
# name = "rpz.pref.example.jp"
# file = "rpz/common.rpz"
# # tenant = "aoba"                             # only for one tenant
# # action_override = "cname"                   # nxdomain, nodata, passthru, drop, tcp-only, disabled, cname
# # cname_override = "block.pref.example.jp"
# alert = false
# # primaries = ["192.0.2.60:53"]               # transferred (AXFR, then IXFR) and refreshed by SOA;
# # transfer_key = "rpz-feed"                   # NOTIFY from a primary refreshes at once; file is then
# #                                             # optional and rewritten after each transfer
# # tags = ["schools"]                          # only for clients with this tag

# [dns.client_tags]                             # tags for client networks (per-tag policy zones)
# schools = ["10.20.0.0/16"]

# [dns.dns64]                                   # DNS64 (RFC 6147) for IPv6-only networks
# prefix = "64:ff9b::/96"                       # RFC 6052 prefix: /32, /40, /48, /56, /64 or /96
# exclude = ["::ffff:0:0/96"]                   # AAAA records here count as absent
# clients = ["2001:db8:64::/48"]                # only these clients; all tenant clients when empty

# [dns.rate_limit]                              # UDP response rate limiting per client network
# responses_per_second = 20                     # and as many at once; more are dropped
# slip = 2                                      # every 2nd limited answer empty with TC (retry TCP)
# ipv4_prefix = 24
# ipv6_prefix = 56
# exempt = ["192.0.2.0/24"]
# exempt_tenants = true

# [[dns.threat_lists]]                          # one domain a line; hits are alerts
# name = "cnc.intel.pref.example.jp"
# file = "intel/cnc-domains.txt"
# action = "nxdomain"

# [[dns.held_zones]]                            # zones the resolver answers from its own copy
# name = "."                                    # (Unbound's auth-zone; RFC 8806 for the root)
# file = "zones/root.zone"                      # read at start; rewritten after each transfer
# primaries = ["192.0.2.70:53"]                 # kept current by SOA checks, AXFR and IXFR (primaries
#                                               # here and in dns.rpz may be host names, looked up)
# allow_notify = ["192.0.2.71"]                 # may NOTIFY too, besides the primaries (or host names)
# for_upstream = true                           # resolution takes its answers from the copy
# for_downstream = false                        # clients get authoritative answers (AA) from it
# fallback = true                               # ask the zone's servers while no copy is held
# zonemd_check = true                           # a version whose ZONEMD (RFC 8976) fails is not used
# zonemd_reject_absence = false                 # nor one without ZONEMD
# zonemd_permissive = false                     # only log ZONEMD failures

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
# Simultaneous connections in all and per client address (tenants' senders: no per-address limit).
max_connections = 1000
max_connections_per_ip = 50
# Without tls_cert/tls_key a self-signed certificate is made in the data directory.
# tls_cert = "certs/mail.crt"
# tls_key = "certs/mail.key"
# The queue (relative to data_dir): a message is acknowledged only once it is on disk.
queue_dir = "mail/queue"
# Minutes between delivery attempts (the last repeats), and when a message is returned to its
# sender with a delivery status notification in Japanese and English.
retry_minutes = [5, 10, 30, 60, 120, 240]
give_up_hours = 120
# The sender is told once (in Japanese and English) when a message is still undelivered after
# this many hours; 0 sends no such notice.
delay_warning_hours = 4
# A DNS server for MX lookups and SPF; the system resolver when left out.
# resolver = "192.0.2.53:53"
# DMARC finds Organizational Domains with the Public Suffix List; mamori carries a copy. A
# newer file, such as the one Debian's publicsuffix package keeps current, replaces it:
# public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat"
# Where mail to the bare <postmaster> goes (RFC 5321 requires accepting it); refused when left out.
# postmaster = "postmaster@city.midori.example.jp"
# Every message and attachment goes through the scanning engine ([scan]) in both directions.
antivirus = true
# Quarantined messages (relative to data_dir): `mamori mail quarantine list|show|release|delete`.
quarantine_dir = "mail/quarantine"

[mail.spam]
# Anti-spam scoring of mail from the internet: built-in rules (GTUBE, Japanese and English
# phishing wording, link tricks, header anomalies), SPF/DKIM/DMARC results, and these lists.
enabled = true
# DNS block lists for the client's address and for the hosts of links (e.g. a local rbldnsd).
# dnsbl = ["bl.pref.example.jp"]
# uribl = ["uribl.pref.example.jp"]
# Senders: "user@domain", "@domain" or "domain" (with subdomains); a tenant's own lists come first.
block_senders = []
allow_senders = []
# Rules of your own: target is subject, body, url, from or header:NAME; case-insensitive regex.
# [[mail.spam.rules]]
# name = "PREF_FAKE_INVOICE"
# score = 3.0
# target = "subject"
# pattern = "請求書.*(至急|未払い)"

[mail.tenants.midori]
# Inbound mail for each domain (and its subdomains) goes to this next hop (host[:port]).
routes = { "city.midori.example.jp" = "10.1.0.25:25" }
# Who may send outbound mail as みどり市; the tenant's networks when left out.
# sender_networks = ["10.1.0.0/24"]
# A copy of every inbound message as it arrived goes to an isolated archive server.
# archive = { address = "journal@archive.city.midori.example.jp", next_hop = "10.1.9.25:25" }
# The rua= address of the city's DMARC record: the aggregate reports receivers send there become
# mail.dmarc_report events (who sends mail as the city, and how it fares); the mail is delivered.
# dmarc_report_addresses = ["dmarc-reports@city.midori.example.jp"]

[mail.tenants.midori.content]
# Malware: quarantine (the recipients are told in Japanese and English) or reject.
virus_action = "quarantine"
# Encrypted archives, disguised file names, limits exceeded: deliver, tag, quarantine, reject.
suspicious_action = "tag"
# DMARC failures: follow (the author domain's p=), tag, quarantine, ignore.
dmarc_action = "follow"
subject_tag = "【要注意】"
quarantine_days = 30
notify = true
# Spam scores from which mail is tagged and quarantined (add spam_reject_score to refuse);
# advertising (未承諾広告※, bulk mail) is its own class: deliver, tag, quarantine or reject.
spam_tag_score = 5.0
spam_quarantine_score = 10.0
advertising_action = "tag"
# allow_senders = ["@partner.example.jp"]

# DKIM keys for outbound mail (RFC 6376): RSA or Ed25519 PEM, relative to this file. Make one with
#   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out keys/midori.pem
# and publish what `mamori mail dkim-records` prints.
# [[mail.tenants.midori.dkim]]
# domain = "city.midori.example.jp"
# selector = "mamori2026"
# key = "keys/midori.pem"

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
# The same alert (rule, tenant, host) goes to each channel once within this window.
dedup_secs = 300

# Values of %name% placeholders for Sigma's `expand` modifier (rules naming one not defined
# here are not loaded and are listed in the log). Rules, placeholders and channels follow
# `mamori reload` (SIGHUP) without a restart; a file that fails its checks changes nothing.
# [detect.placeholders]
# Admins_Workstations = ["ADM-PC*", "SOC-*"]

# Event monitoring in mamori's query language (the search box's). These rules are versioned
# like tenants: a change becomes a revision and applies live. Without `tenant` a rule applies
# to every tenant, each counted on its own.
#
# N events within a window, per group:
# [[detect.monitor.threshold]]
# id = "proxy-blocks-per-client"
# title = "One client blocked 50 times in 5 minutes"
# query = "event.dataset:proxy.access event.action:blocked"
# count = 50
# window_secs = 300
# group_by = ["source.ip"]
# level = "medium"            # informational, low, medium, high or critical
#
# # Liveness: no matching event for a while, per host once seen (or per tenant without group_by):
# [[detect.monitor.absence]]
# id = "dc-silent"
# tenant = "midori"
# query = "event.dataset:winlog"
# silence_secs = 3600
# group_by = ["host.name"]
# level = "high"
#
# # Known noise: alerts matching the query are neither stored nor sent until `expires`.
# [[detect.monitor.suppress]]
# query = "rule.id:proxy-blocks-per-client source.ip:10.1.0.50"
# reason = "the library's catalogue PC polls a blocked site (ticket 123)"
# expires = "2027-04-01T00:00:00+09:00"
#
# # Where alerts go besides the log store (service settings, not revisions: secrets stay out
# # of the logs, the revision history and the API; `mamori reload` applies changes).
# # Delivery never holds up ingestion: each channel has its own queue and retries.
# [[detect.channels]]
# name = "soc-webhook"
# kind = "webhook"            # JSON POST of the alert event
# url = "https://soc.example.jp/hooks/mamori"
# token = "..."               # sent as Authorization: Bearer
# min_level = "medium"
#
# [[detect.channels]]
# name = "duty-mail"
# kind = "email"              # SMTP; AUTH PLAIN with username/password
# server = "127.0.0.1:25"
# tls = "opportunistic"       # STARTTLS when offered; "starttls" requires and verifies it
#                             # (ca_file = "soc-ca.pem" or the public roots); "none": plain
# from = "mamori@soc.example.jp"
# to = ["soc-duty@soc.example.jp"]
# min_level = "high"
# tenants = ["midori"]        # only these tenants' alerts; all when absent
#
# [[detect.channels]]
# name = "siem"
# kind = "syslog"             # RFC 5424, facility local4; udp or tcp (octet counting)
# server = "192.0.2.10:514"
# protocol = "tcp"
# min_level = "low"

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
