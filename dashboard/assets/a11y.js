/* Accessibility repairs of Dash 4's own controls (WCAG 2.1 AA; axe-core checks them in tests/e2e/test_phone_a11y.py).
 * - Dropdown: Dash makes an aria-hidden <input> the keyboard target and takes the button out of the tab order;
 *   here the button is the tab stop (Enter/Space open it) and is named by the control's visible <label>.
 * - RadioItems: role=listbox with role=option labels around radio inputs nests controls; here it is a radiogroup
 *   of plain radios, named by the control's label when there is one.
 * - Scrollable tables are keyboard-reachable (tabindex=0). */
(function () {
  var pending = false;

  function labelOf(node) {
    var control = node.closest('.control, .chart-card-bar, .view-toggle-wrap');
    var label = control && control.querySelector('label[for], .control-label');
    if (!label) { return null; }
    if (!label.id) { label.id = 'dsm-label-' + (label.getAttribute('for') || Math.random().toString(36).slice(2)); }
    return label;
  }

  function repair() {
    pending = false;
    document.querySelectorAll('.dash-dropdown-wrapper').forEach(function (wrap) {
      var target = wrap.querySelector('.dash-dropdown-focus-target');
      var button = wrap.querySelector('button.dash-dropdown');
      if (!button) { return; }
      if (target && target.getAttribute('tabindex') !== '-1') { target.setAttribute('tabindex', '-1'); }
      if (button.getAttribute('tabindex') !== '0') { button.setAttribute('tabindex', '0'); }
      var label = labelOf(wrap);
      var ids = (button.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean);
      if (label && ids.indexOf(label.id) < 0) { button.setAttribute('aria-labelledby', [label.id].concat(ids).join(' ')); }
    });
    document.querySelectorAll('.dash-radioitems[role="listbox"], .dash-checklist[role="listbox"]').forEach(function (group) {
      group.setAttribute('role', group.classList.contains('dash-radioitems') ? 'radiogroup' : 'group');
      var label = labelOf(group);
      if (label && !group.hasAttribute('aria-labelledby')) { group.setAttribute('aria-labelledby', label.id); }
      if (!label && !group.hasAttribute('aria-label')) { group.setAttribute('aria-label', 'View'); }
    });
    document.querySelectorAll('.dash-options-list-option[role="option"], .dash-options-list-option[aria-selected]').forEach(function (option) {
      option.removeAttribute('role');
      option.removeAttribute('aria-selected');
    });
    // dcc.Clipboard renders a plain element: make each copy control a focusable button named by its visible words.
    document.querySelectorAll('.copy-link, .copy-embed').forEach(function (button) {
      if (button.getAttribute('role') !== 'button') { button.setAttribute('role', 'button'); }
      if (button.getAttribute('tabindex') !== '0') { button.setAttribute('tabindex', '0'); }
      var words = button.parentElement && button.parentElement.querySelector('.share-copy-label');
      var name = ((words ? words.textContent : button.textContent) || '').trim() || button.getAttribute('title');
      if (name && button.getAttribute('aria-label') !== name) { button.setAttribute('aria-label', name); }
      if (words && words.getAttribute('aria-hidden') !== 'true') { words.setAttribute('aria-hidden', 'true'); }
    });
    document.querySelectorAll('.data-table').forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1 && !table.hasAttribute('tabindex')) { table.setAttribute('tabindex', '0'); }
    });
  }

  function schedule() {
    if (!pending) { pending = true; window.requestAnimationFrame(repair); }
  }

  // React sets role/aria-selected/tabindex again when a selection changes: watch those attributes too.
  new MutationObserver(schedule).observe(document.documentElement, {childList: true, subtree: true, attributes: true,
    attributeFilter: ['role', 'aria-selected', 'tabindex', 'aria-hidden']});
  window.addEventListener('resize', schedule);
  // The words beside a copy button click it; Enter and Space press it from the keyboard.
  document.addEventListener('click', function (event) {
    var words = event.target.closest && event.target.closest('.share-copy-label');
    var button = words && words.parentElement.querySelector('.copy-link, .copy-embed');
    if (button) { button.click(); }
  });
  document.addEventListener('keydown', function (event) {
    var button = event.target.closest && event.target.closest('.copy-link[role="button"], .copy-embed[role="button"]');
    if (button && (event.key === 'Enter' || event.key === ' ') && event.target === button) {
      event.preventDefault();
      button.click();
    }
  });
  schedule();
})();
