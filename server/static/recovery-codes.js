// Copy and print buttons on the recovery-codes page (a static file: the CSP allows no inline script).
const copyButton = document.getElementById('copy-recovery-codes');
const printButton = document.getElementById('print-recovery-codes');
const status = document.getElementById('copy-status');

copyButton?.addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(copyButton.dataset.codes ?? '');
    if (status) status.textContent = 'Copied to the clipboard.';
  } catch {
    if (status) status.textContent = 'Copying is blocked here; select the codes and copy them by hand.';
  }
});

printButton?.addEventListener('click', () => window.print());
