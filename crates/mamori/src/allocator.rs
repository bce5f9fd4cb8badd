//! The memory allocator of mamori's programs (`mamori` and `mamori-scanner`): mimalloc, set up
//! so that memory freed after loading signatures goes back to the operating system.

/// mimalloc: the log pipeline allocates and frees many small strings on several threads at
/// once, where glibc's allocator spent a third of the CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns memory freed so far to the operating system. Loading signatures builds large
/// temporaries (the pattern automaton is built from a bigger one) that mimalloc would keep
/// resident for as long as the process runs.
pub fn release_free_memory() {
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mimalloc is the global allocator and mi_collect may be called from any thread.
    unsafe { mi_collect(true) }
}

/// mimalloc on Linux commits each arena whole when it reserves it and later returns freed
/// pages with a lazy reset that leaves them resident; committing on demand instead lets
/// `release_free_memory` give back what loading signatures used (`mamori scan` with 28,000
/// ClamAV signatures: 29 MiB resident without this, 17 MiB with it). The option must be set
/// before the first allocation reserves the first arena, which happens before `main`: hence a
/// constructor that runs ahead of the others (`.init_array` entries with a priority run first).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00099")]
static CONFIGURE_ALLOCATOR: extern "C" fn() = configure_allocator;

#[cfg(target_os = "linux")]
extern "C" fn configure_allocator() {
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    /// `mi_option_arena_eager_commit` in `mi_option_t` (the same in mimalloc 2 and 3).
    const ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
    // SAFETY: a plain option setter of the allocator in use, called once before any thread
    // exists and before anything is allocated.
    unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) }
}

/// `mi_option_purge_delay` in `mi_option_t` (the same in mimalloc 2 and 3).
const PURGE_DELAY: std::ffi::c_int = 15;

/// While alive, memory freed is returned to the operating system at once instead of after
/// mimalloc's purge delay (10 ms, and only checked when the allocator is next used, so an
/// idle process keeps what it freed last). Used around loading signatures, where it left
/// 0.3 MiB less resident (`mamori-scanner` with the ClamAV benchmark database); not while
/// scanning, whose buffers are freed and allocated again for every file.
pub struct PromptPurge {
    previous: std::ffi::c_long,
}

impl PromptPurge {
    pub fn start() -> PromptPurge {
        unsafe extern "C" {
            fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
            fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        }
        // SAFETY: plain option accessors of the allocator in use; options are read atomically.
        let previous = unsafe { mi_option_get(PURGE_DELAY) };
        unsafe { mi_option_set(PURGE_DELAY, 0) };
        PromptPurge { previous }
    }
}

impl Drop for PromptPurge {
    fn drop(&mut self) {
        unsafe extern "C" {
            fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        }
        // SAFETY: as in `start`.
        unsafe { mi_option_set(PURGE_DELAY, self.previous) }
    }
}
