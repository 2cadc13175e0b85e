CREATE OR REPLACE FUNCTION public.erase_json(doc jsonb, p_email_re text, p_name_re text, p_name_field boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
      -- A person taken out of a JSON document of their own account's rows (an erasure, docs/erasure.md):
      -- a string holding the email as a whole address (erase_email_pattern(), any case) becomes null
      -- wherever it is; a string holding the username as a whole word (erase_name_pattern()) only under
      -- a key that holds a person's name or words about them (erase_name_key()), at any depth below it,
      -- so a value merely equal to the username elsewhere (`"source": "manual"`, another user's id) stays.
      -- Objects and arrays keep their shape and keys. A null pattern matches nothing.
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
            IF (doc #>> '{}') ~* p_email_re OR (p_name_field AND (doc #>> '{}') ~ p_name_re) THEN
              RETURN 'null'::jsonb;
            END IF;
            RETURN doc;
          ELSE
            RETURN doc;
        END CASE;
      END $function$;
