/**
 * Telegram-shaped bot tokens for tests: unique in this test process (so two tests, or two bots,
 * never share a simulator bot or a lock by accident) and obviously fake.
 */
let issued = 0;

export function fakeToken(): string {
  issued++;
  const id = 5_000_000_000 + (process.pid % 100_000) * 1000 + issued;
  return `${id}:TEST_fake_token_${String(issued).padStart(6, '0')}_not_for_telegram`;
}
