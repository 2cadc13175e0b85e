import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { EmailWorker } from './email.worker.js';
import { EmailNotificationsRepository } from './email-notifications.repository.js';
import { EmailNotification } from './entities/email-notification.entity.js';
import { NotificationPreference } from './entities/notification-preference.entity.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsService } from './notifications.service.js';

/**
 * Email notifications: the emails the queue trigger (email_notifications_queue(), on `events`)
 * writes in each event's transaction are made from template files and sent by the worker after
 * commit; preferences, the admin list, one-click unsubscribe (docs/notifications.md).
 */
@Module({
  imports: [TypeOrmModule.forFeature([EmailNotification, NotificationPreference])],
  controllers: [NotificationsController],
  providers: [EmailNotificationsRepository, EmailWorker, NotificationsService],
  exports: [EmailWorker, NotificationsService],
})
export class NotificationsModule {}
