import Link from 'next/link';

/** A signed-in user whose role does not include what the page shows (HTTP 403). */
export default function Forbidden() {
  return (
    <main className="page">
      <section className="state state--error" role="alert">
        <h1>Not allowed</h1>
        <p>Your role does not include this page. Ask an admin if you need it.</p>
        <p>
          <Link href="/">Back to the cockpit</Link>
        </p>
      </section>
    </main>
  );
}
