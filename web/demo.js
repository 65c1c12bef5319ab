// The demo pages' stand-in for a business's server: Parley signs a private data token for the
// demo customer into the page (<meta name="parley-demo-token">), and this passes it to the
// widget, as a business's page would with a token from its own server.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="parley-demo-token"]');
  if (!meta || !meta.content) return;
  if (window.Parley && typeof window.Parley.setPrivateData === 'function') {
    window.Parley.setPrivateData(meta.content);
  } else {
    window.ParleyQueue = window.ParleyQueue || [];
    window.ParleyQueue.push(['setPrivateData', meta.content]);
  }
})();
