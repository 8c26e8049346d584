// The brand console's drop form: the chosen image shown before the form is sent, and a
// file over the size limit caught at once. The form works the same without this script
// (the server checks every file and shows its sentence beside the field).
"use strict";

document.querySelectorAll("[data-image-input]").forEach((input) => {
  const field = input.closest(".field");
  const preview = field.querySelector("[data-image-preview]");
  const tooLarge = field.querySelector("[data-image-too-large]");
  const maxBytes = Number(input.dataset.maxBytes) || Infinity;

  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    tooLarge.hidden = true;
    preview.hidden = true;
    preview.removeAttribute("src");
    if (!file) return;
    if (file.size > maxBytes) {
      input.value = ""; // not sent: the brand chooses another
      tooLarge.hidden = false;
      return;
    }
    // A data: URL (the pages' Content-Security-Policy allows data: images, not blob:).
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      preview.src = String(reader.result);
      preview.hidden = false;
    });
    reader.readAsDataURL(file);
  });
});
