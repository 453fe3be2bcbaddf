import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="state state--empty">
      <h1>Page not found</h1>
      <p>
        Nothing lives at this address. Search for a process on the <Link href="/">Processes</Link> page.
      </p>
    </section>
  );
}
