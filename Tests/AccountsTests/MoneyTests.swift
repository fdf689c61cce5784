import Testing

@testable import Accounts

@Suite struct MoneyTests {
    @Test func amountsFromOutsideAreCheckedNotTrapped() {
        for usd in [1e10, 1e300, -0.01, .nan, .infinity, -.infinity, 1_000_000_000.5] {
            #expect(Nanodollars(usd: usd) == nil, "\(usd)")
        }
        #expect(Nanodollars(usd: 1e9) == Nanodollars.maximum)
        #expect(Nanodollars(usd: 0.0000006)?.value == 600)
        #expect(Nanodollars(usd: "1000000000.000000001") == nil)
        #expect(Nanodollars(usd: "99999999999") == nil)
        #expect(Nanodollars(usd: "1000000000") == Nanodollars.maximum)
    }

    @Test func arithmeticSaturatesInsteadOfTrapping() {
        let big = Nanodollars(.max - 1)
        #expect((big * 1_000).value == .max)
        #expect((Nanodollars(-5) * Int.max).value == .min)
        #expect((big + Nanodollars(10)).value == .max)
        #expect((Nanodollars(.min + 1) - Nanodollars(10)).value == .min)
        #expect((Nanodollars(600) * 3_905).value == 2_343_000)
    }

    @Test func rateLimitsAreRangeChecked() {
        #expect(RateLimit.problem(interval: 1e300) != nil)
        #expect(RateLimit.problem(interval: 0) != nil)
        #expect(RateLimit.problem(interval: .nan) != nil)
        #expect(RateLimit.problem(interval: 60) == nil)
        #expect(RateLimit.problem(requests: 0) != nil)
        #expect(RateLimit.problem(requests: 600) == nil)
        // A rate limit stored before the checks is read back inside the ranges.
        #expect(RateLimit(requests: 5, interval: 1e300).clamped == RateLimit(requests: 5, interval: 31_622_400))
        #expect(RateLimit(requests: 5, interval: 0).clamped.interval == 1)
        #expect(RateLimit(requests: 0, interval: .nan).clamped == RateLimit(requests: 1, interval: 60))
    }
}
