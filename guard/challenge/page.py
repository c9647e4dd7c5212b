"""The challenge page: a short proof of work in the browser, then back to the page asked for."""

from __future__ import annotations

import html

VERIFY_PATH = "/guard/challenge/verify"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Checking your browser</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a1a1a; background: #fff; }}
progress {{ width: 100%; height: 1.25rem; }}
</style>
</head>
<body>
<main>
<h1>One moment, please</h1>
<p>This site protects the personal data in its records from bulk copying. Your browser is
doing a short calculation that shows it is not a copying program. It takes about a second;
then the page you asked for opens by itself.</p>
<form id="guard-challenge" method="post" action="{verify}">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="counter" value="">
<label for="guard-progress">Progress of the check</label>
<progress id="guard-progress" max="100" value="0"></progress>
<p id="guard-status" role="status" aria-live="polite">Checking&hellip;</p>
<noscript>
<p><strong>JavaScript is turned off.</strong> This check runs in JavaScript. Please turn
JavaScript on for this site and reload the page. If you cannot, contact the site's
support.</p>
</noscript>
</form>
</main>
<script>
(async () => {{
  const form = document.getElementById("guard-challenge");
  const status = document.getElementById("guard-status");
  const bar = document.getElementById("guard-progress");
  if (!(window.crypto && crypto.subtle)) {{
    status.textContent = "This check needs a secure (HTTPS) connection and a current browser.";
    return;
  }}
  const token = form.elements.token.value, bits = {difficulty};
  const encoder = new TextEncoder(), expected = 2 ** bits, batch = 256;
  const zeroBits = (digest) => {{
    let count = 0;
    for (const byte of digest) {{
      if (byte !== 0) return count + Math.clz32(byte) - 24;
      count += 8;
    }}
    return count;
  }};
  for (let start = 0; ; start += batch) {{
    const work = [];
    for (let n = start; n < start + batch; n++) {{
      work.push(crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + n)));
    }}
    const digests = await Promise.all(work);
    for (let i = 0; i < batch; i++) {{
      if (zeroBits(new Uint8Array(digests[i])) >= bits) {{
        form.elements.counter.value = String(start + i);
        status.textContent = "Done. Opening the page\\u2026";
        bar.value = 100;
        form.submit();
        return;
      }}
    }}
    bar.value = Math.min(95, (100 * start) / expected);
  }}
}})();
</script>
</body>
</html>
"""

_FAILED = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Check failed</title></head>
<body><main><h1>The check did not pass</h1>
<p>{message} <a href="{again}">Try again</a>.</p></main></body>
</html>
"""


def challenge_page(token: str, difficulty: int) -> str:
    """The HTML of a challenge for ``token`` at ``difficulty`` leading zero bits."""
    return _PAGE.format(verify=VERIFY_PATH, token=html.escape(token), difficulty=int(difficulty))


def failed_page(message: str, again: str) -> str:
    """The HTML shown when a solution is refused, with a link to start over."""
    return _FAILED.format(message=html.escape(message), again=html.escape(again))
