output "nlb_arn" {
  description = "The NLB that is the traffic mirror target."
  value       = local.nlb_arn
}

output "nlb_dns_name" {
  description = "DNS name of the NLB created here (null with existing_nlb_arn)."
  value       = local.create_nlb ? aws_lb.mirror[0].dns_name : null
}

output "target_group_arn" {
  description = "UDP target group to register collectors in (null with existing_nlb_arn)."
  value       = local.create_nlb ? aws_lb_target_group.vxlan[0].arn : null
}

output "collector_security_group_id" {
  description = "Security group to attach to the collectors (null with existing_nlb_arn)."
  value       = local.create_nlb ? aws_security_group.collector[0].id : null
}

output "traffic_mirror_target_id" {
  description = "ID of the traffic mirror target."
  value       = aws_ec2_traffic_mirror_target.collectors.id
}

output "traffic_mirror_filter_id" {
  description = "ID of the traffic mirror filter."
  value       = aws_ec2_traffic_mirror_filter.api.id
}

output "traffic_mirror_session_ids" {
  description = "Traffic mirror session ID per source ENI."
  value       = { for eni, s in aws_ec2_traffic_mirror_session.source : eni => s.id }
}

output "virtual_network_ids" {
  description = "VNI per source ENI (as assigned when virtual_network_id is null)."
  value       = { for eni, s in aws_ec2_traffic_mirror_session.source : eni => s.virtual_network_id }
}
