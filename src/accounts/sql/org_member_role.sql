CREATE OR REPLACE FUNCTION public.org_member_role(p_org_id character varying, p_user_id character varying)
 RETURNS character varying
 LANGUAGE sql
 STABLE
AS $function$
  -- The user's role in the org while they are an active member (owner, admin, billing, member); null
  -- when they are not (never were, or removed). The one home of "is this user a member": the org
  -- routes' access rules, separation of duties on org grants and the member check of org charges.
  SELECT m.role FROM org_members m WHERE m.org_id = p_org_id AND m.user_id = p_user_id AND m.removed_at IS NULL
$function$;
