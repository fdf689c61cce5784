import Synchronization

/// A first-come, first-served lock for async code: holders may suspend while holding it.
/// SQLite's single connection needs this around transactions, because an actor would let
/// another caller's statements run inside a transaction at every `await`.
final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func withLock<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        // Uncontended (nearly always): taken without suspending, so without a trip through the
        // executor's queue.
        let taken = state.withLock { state in
            guard !state.locked else { return false }
            state.locked = true
            return true
        }
        if !taken { await acquire() }
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
