CREATE OR REPLACE FUNCTION public.erase_json(doc jsonb, p_email_re text, p_name_re text, p_name_field boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
      -- A person taken out of a JSON document of their own account's rows (an erasure, docs/erasure.md):
      -- in every string the email as a whole address (erase_email_pattern(), any case) becomes
      -- `[erased]` (erase_text()), the rest of the string stays; the username as a whole word
      -- (erase_name_pattern()) likewise, only under a key that holds a person's name or words about them
      -- (erase_name_key()), at any depth below it, so a value merely equal to the username elsewhere
      -- (`"source": "manual"`, another user's id) stays. No string is removed whole: a note keeps its
      -- other words. Objects and arrays keep their shape and keys. A null pattern matches nothing.
      BEGIN
        CASE jsonb_typeof(doc)
          WHEN 'object' THEN
            RETURN (SELECT COALESCE(jsonb_object_agg(e.key, erase_json(e.value, p_email_re, p_name_re,
                                                                       p_name_field OR erase_name_key(e.key))), '{}'::jsonb)
                      FROM jsonb_each(doc) e);
          WHEN 'array' THEN
            RETURN (SELECT COALESCE(jsonb_agg(erase_json(a.value, p_email_re, p_name_re, p_name_field) ORDER BY a.ord), '[]'::jsonb)
                      FROM jsonb_array_elements(doc) WITH ORDINALITY a(value, ord));
          WHEN 'string' THEN
            RETURN to_jsonb(erase_text(doc #>> '{}', p_email_re, CASE WHEN p_name_field THEN p_name_re END));
          ELSE
            RETURN doc;
        END CASE;
      END $function$;
