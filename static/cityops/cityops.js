/* CityOps pages: small behaviours that used to be inline handlers (the Content-Security-Policy
   allows scripts from this site's static files only). */
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.submit();
  }
});
