const docs = document.getElementById("docs");
globalThis.ui = globalThis.SwaggerUIBundle({ url: docs.dataset.specUrl, dom_id: "#docs" });
