import Foundation

/// A thread of its own for SQLite's calls, as a task executor: code run under
/// `withTaskExecutorPreference(thread)` executes here, so a statement that waits on SQLite's
/// file lock (another process writing, up to `busy_timeout`) blocks this thread, never one of
/// the cooperative pool's (two on this machine). A transaction hops here once and back once.
final class SQLiteThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are only touched while `condition` is locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var thread: Thread?

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the jobs it has and exit.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                thread = nil  // breaks the cycle thread → closure → self
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
