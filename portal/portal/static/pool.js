// The pool's distribution form: while the server runs the distribution (long work), show the
// form's progress block (an indeterminate progress bar and a sentence). Pages work without it.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  var id = form.getAttribute("data-progress");
  var block = id ? document.getElementById(id) : null;
  if (block) block.hidden = false;
});
