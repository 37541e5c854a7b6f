// Ledger: the latest entries (newest first), verification with its result and head hash, and an
// NDJSON export of a range.
import type { EntryView, LedgerService } from '../../services/ledger.js';
import { Status, Time } from '../layout.js';

export function LedgerPage({ entries, older, verified }: { entries: EntryView[]; older: number | null; verified: LedgerService['lastVerified'] }) {
  return (
    <>
      <section aria-labelledby="verify">
        <h2 id="verify">Verification</h2>
        {verified ? (
          <p id="verify-result">
            {verified.result.ok ? <Status status="ok" /> : <Status status="broken" />}{' '}
            {verified.result.ok
              ? `The hash chain holds: ${verified.result.entries.toLocaleString('en-US')} entries, head hash `
              : `The chain is broken at seq ${verified.result.first_broken_seq} (${verified.result.reason}); ${verified.result.entries.toLocaleString('en-US')} entries checked. `}
            {verified.result.ok && <code class="mono">{verified.result.head_hash}</code>} (verified <Time at={verified.at} />)
          </p>
        ) : (
          <p>Not verified since herald started.</p>
        )}
        <form method="get" action="/console/ledger/verify">
          <button type="submit">Verify the ledger now</button>
        </form>
      </section>

      <section aria-labelledby="export">
        <h2 id="export">Export</h2>
        <form method="get" action="/console/ledger/export" class="actions">
          <label>
            After seq
            <input type="number" name="after" min={0} value="0" />
          </label>
          <label>
            Up to seq (empty: the end)
            <input type="number" name="until" min={1} />
          </label>
          <button type="submit">Download NDJSON</button>
        </form>
      </section>

      <h2>Latest entries</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col" class="num">Seq</th>
              <th scope="col">At</th>
              <th scope="col">Kind</th>
              <th scope="col">Stream</th>
              <th scope="col">Actor</th>
              <th scope="col" class="wide">Hash</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td class="num">{e.seq}</td>
                <td>
                  <Time at={e.at} />
                </td>
                <td>
                  <details>
                    <summary>{e.kind}</summary>
                    <pre>{JSON.stringify(e.body, null, 2)}</pre>
                  </details>
                </td>
                <td class="mono">{e.stream}</td>
                <td>{e.actor}</td>
                <td class="wide mono">{e.hash.slice(0, 16)}…</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {older && (
        <nav class="pager" aria-label="Pages">
          <a href="/console/ledger">Newest</a>
          <a href={`/console/ledger?before=${older}`}>Older entries</a>
        </nav>
      )}
    </>
  );
}
