CREATE OR REPLACE FUNCTION public.json_mentions(doc jsonb, p_email text, p_username text)
 RETURNS boolean
 LANGUAGE sql
 IMMUTABLE
AS $function$
      -- Whether json_erase() would change the document: a cheap test on its text first (the email in any
      -- case, the username as a JSON string), so an erasure rewrites only the rows that name the person.
      SELECT doc IS NOT NULL
         AND (strpos(lower(doc::text), lower(p_email)) > 0 OR strpos(doc::text, to_jsonb(p_username)::text) > 0)
         AND json_erase(doc, p_email, p_username) IS DISTINCT FROM doc
$function$;
