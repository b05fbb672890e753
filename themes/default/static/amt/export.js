// The JSON export of an application, decrypted in this browser from the answer of
// GET /api/office/applications/<id>/export?format=json: what a caseworker files in the
// records (docs/workspace.md, "Export"). File contents are not included, only what
// identifies them (name, type, size, SHA-256); they are downloaded one by one.

import * as antrag from './antrag.js';
import * as envelope from './envelope.js';

export async function exportDocument(data, offices) {
  const entry = data.application;
  const officeId = antrag.officeIdOf(entry);
  const office = offices.find((o) => o.id === officeId);
  const opened = await antrag.open(entry);
  if (!opened.plain) throw opened.error;
  const messages = data.messages || [];
  const contents = await envelope.openMessages(officeId, messages);
  return {
    format: 'lotse-arbeitsplatz-export-v1',
    exported_at: new Date().toISOString(),
    id: entry.id,
    portal: entry.portal,
    portal_name: office?.portal_name || null,
    office: entry.office,
    office_name: office?.name || null,
    service: entry.service,
    service_title: opened.plain.service_title || null,
    submitted_at: opened.plain.submitted_at || entry.created_at,
    status: entry.status,
    history: (entry.history || []).map((h) => ({ status: h.status, at: h.at })),
    payment: entry.payment || opened.plain.payment || null,
    fields: antrag.fieldsOf(opened.plain, opened.schema).map((f) => ({
      id: f.id,
      label: f.label,
      value: opened.plain.fields?.[f.id] ?? null,
    })),
    messages: messages.map((m, i) => {
      const c = contents[i];
      const base = { id: m.message, from: m.from, at: m.at };
      if (c.error) return { ...base, unreadable: c.error };
      return {
        ...base,
        text: c.text,
        status: c.status || null,
        attachments: (c.attachments || []).map(({ id, name, type, size, sha256 }) => ({ id, name, type, size, sha256 })),
      };
    }),
  };
}
