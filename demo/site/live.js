// Live tables of the demo's tool pages: collected sign-ups and received webhooks. Everything from
// the server is untrusted (emails, field values) and goes in as text, never as HTML.
(function () {
  var view = document.currentScript.getAttribute('data-view');
  var status = document.getElementById('status');
  var names = {};

  function cell(row, text, className) {
    var td = document.createElement('td');
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function pre(row, value) {
    var td = cell(row, '');
    var p = document.createElement('pre');
    p.textContent = JSON.stringify(value, null, 2);
    td.appendChild(p);
  }
  function when(iso) {
    return new Date(iso).toLocaleString();
  }

  function signups() {
    var body = document.getElementById('signups');
    var after = '';
    var count = 0;
    fetch('/poplet/campaigns.json').then(function (r) { return r.json(); }).then(function (list) {
      list.forEach(function (c) { names[c.id] = c.name; });
    }).catch(function () {});
    function poll() {
      fetch('/poplet/api/emails' + (after ? '?collected_after=' + encodeURIComponent(after) : ''))
        .then(function (r) {
          if (!r.ok) throw new Error('Email API answered ' + r.status);
          return r.json();
        })
        .then(function (rows) {
          if (rows.length && !count) body.textContent = '';
          rows.forEach(function (s) {
            var tr = document.createElement('tr');
            cell(tr, when(s.collected_at));
            cell(tr, s.email);
            cell(tr, (names[s.wisepop_id] || 'Campaign') + ' (#' + s.wisepop_id + ')');
            cell(tr, s.country_code || '—');
            pre(tr, s.other_fields);
            body.insertBefore(tr, body.firstChild);
            after = s.collected_at;
            count++;
          });
          status.textContent = count + ' sign-up' + (count === 1 ? '' : 's') + ' · checked ' + new Date().toLocaleTimeString();
        })
        .catch(function (e) { status.textContent = String(e.message || e); })
        .then(function () { setTimeout(poll, 2000); });
    }
    poll();
  }

  function hooks() {
    var body = document.getElementById('hooks');
    var seen = 0;
    function poll() {
      fetch('/poplet/api/hooks?since=' + seen)
        .then(function (r) { return r.json(); })
        .then(function (list) {
          if (list.length && !seen) body.textContent = '';
          list.forEach(function (h) {
            var tr = document.createElement('tr');
            cell(tr, when(h.receivedAt));
            cell(tr, h.valid ? '✔ valid' : '✘ invalid', h.valid ? 'ok' : 'bad').title = h.signature || '(no header)';
            cell(tr, h.deliveryId || '—');
            pre(tr, h.payload);
            body.insertBefore(tr, body.firstChild);
          });
          seen += list.length;
          status.textContent = seen + ' payload' + (seen === 1 ? '' : 's') + ' received · checked ' + new Date().toLocaleTimeString();
        })
        .catch(function (e) { status.textContent = String(e.message || e); })
        .then(function () { setTimeout(poll, 1500); });
    }
    poll();
  }

  (view === 'hooks' ? hooks : signups)();
})();
