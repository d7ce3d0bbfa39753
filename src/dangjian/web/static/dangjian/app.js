// Behaviour every page shares, bound by data attributes: the Content-Security-Policy allows no inline script
// and no on... attributes, so templates say what they want (data-confirm="…") and this file does it.
(function () {
  "use strict";
  // <form data-confirm="确定…？">: ask before submitting; "取消" leaves the page as it was.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var message = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );
})();
