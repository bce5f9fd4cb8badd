//! The prefilter changes no answer: every SigmaHQ rule (all `rules*` folders) against every
//! event of the EVTX samples and of the Sigma regression data, with and without it, gives the
//! same matches. Needs the shared test data (see ../shared/testdata/README.md).

use std::path::{Path, PathBuf};

use mamori_detect::{CompileOptions, Pipeline, RuleSet, evtx, hunt};

fn testdata() -> PathBuf {
    let dir = std::env::var_os("MAMORI_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata"));
    assert!(
        dir.join("sigma/rules").is_dir() && dir.join("evtx/samples").is_dir(),
        "the Sigma rules and EVTX samples are needed under {} (see ../shared/testdata/README.md)",
        dir.display()
    );
    dir
}

fn rule_dirs(sigma: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sigma).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.retain(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("rules"));
    dirs.sort();
    dirs
}

#[test]
fn prefilter_gives_the_same_matches_on_samples_and_regression_data() {
    let data = testdata();
    let sigma = data.join("sigma");
    let rules = RuleSet::load(&rule_dirs(&sigma), &Pipeline::default(), &CompileOptions::default());
    assert!(rules.rules.len() > 3000, "{} rules", rules.rules.len());
    let inputs = [data.join("evtx/samples"), sigma.join("regression_data")];
    let files = hunt::evtx_files(&inputs).unwrap();
    let (mut events, mut hits, mut differences) = (0usize, 0usize, Vec::new());
    for f in &files {
        let _ = evtx::read_file(
            f,
            &mut |event| {
                events += 1;
                let (mut with, mut without) = (Vec::new(), Vec::new());
                rules.for_each_match(&event, |r| with.push(r));
                rules.for_each_match_unfiltered(&event, |r| without.push(r));
                hits += without.len();
                if with != without && differences.len() < 20 {
                    differences.push(format!("{}: with {with:?}, without {without:?}", f.display()));
                }
            },
            &mut |_| {},
        );
    }
    assert!(events > 18_000, "{events} events");
    assert!(hits > 300, "{hits} matches");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
