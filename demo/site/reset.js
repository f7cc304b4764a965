// "Clear my Poplet cookies": the server already expired every wisepops* cookie it was sent; this
// also removes the localStorage/sessionStorage copies (localStorage mode). The sign-up outbox
// (poplet_outbox) is kept on purpose: it may hold a sign-up not yet delivered.
(function () {
  var names = [];
  document.cookie.split(';').forEach(function (c) {
    var name = c.split('=')[0].trim();
    if (name.indexOf('wisepops') === 0) {
      document.cookie = name + '=; Max-Age=0; path=/';
      names.push(name);
    }
  });
  [localStorage, sessionStorage].forEach(function (store) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf('wisepops') === 0) {
        store.removeItem(key);
        names.push(key);
      }
    }
  });
  var server = document.querySelector('meta[name="poplet-cleared"]');
  var fromServer = server ? server.getAttribute('content') : '';
  if (fromServer) names = fromServer.split(',').concat(names);
  document.getElementById('cleared').textContent = names.length
    ? 'Removed: ' + names.filter(function (n, i) { return names.indexOf(n) === i; }).join(', ') + '.'
    : 'There was nothing to clear.';
})();
